"""Write the services catalogues of the Novgorod and Novosibirsk region packs, deterministically.

Run from the repository root::

    .venv/bin/python data/synthetic/make_services.py

The Novosibirsk part is shaped on the seed figures (``shared/seeds``): 52 services in 22
organisations for families raising disabled children, 16 services for children in difficult life
situations, 15 services in 15 organisations for low-income families, plus parenting schools,
family rehabilitation sites, temporary housing for women with children and leisure for teenagers.
The Novgorod part is smaller and mirrors that region's network (family and children centres, family
departments of the district social services centres, a regional resource service).

Organisations are invented or generic ("the social services centre of X district"); no real
person is named. Service ids are numbered per region and category in the order the offers are
listed below, so append new offers at the end of a region's list to keep existing ids stable.
The script writes each region's rows to its pack, ``risk/regions/packs/<region>/services.csv``
(the pack's columns: no ``region`` column, the folder says it), and then loads the packs back
through :func:`risk.regions.load_region`, so a catalogue it writes is always valid. The Chelyabinsk
pack's catalogue is written by hand (see its README).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "risk" / "regions" / "packs"
REGIONS = ("novgorod", "novosibirsk")

COLUMNS = (
    "service_id",
    "region",
    "category",
    "name_ru",
    "name_en",
    "organisation_ru",
    "organisation_en",
    "domains",
    "eligibility",
    "districts",
)

# Service id infix per category.
CATEGORY_CODE = {
    "disabled_children": "dis",
    "difficult_situation": "dif",
    "low_income": "lin",
    "parenting_school": "par",
    "family_rehabilitation": "reh",
    "temporary_housing": "hou",
    "teen_leisure": "tee",
}
REGION_CODE = {"novosibirsk": "nsk", "novgorod": "nvg"}

# key: (category, name_ru, name_en, domains, eligibility)
TEMPLATES: dict[str, tuple[str, str, str, str, str]] = {
    # Families raising disabled children.
    "home_rehab": (
        "disabled_children",
        "Реабилитация ребёнка на дому",
        "Home-based rehabilitation for the child",
        "health_disability",
        "disabled_child",
    ),
    "device_rental": (
        "disabled_children",
        "Пункт проката технических средств реабилитации",
        "Loan of assistive devices",
        "health_disability;material",
        "disabled_child",
    ),
    "early_help": (
        "disabled_children",
        "Служба ранней помощи",
        "Early intervention service",
        "health_disability;child_development",
        "disabled_child;young_child",
    ),
    "respite": (
        "disabled_children",
        "Социальная передышка: кратковременный присмотр за ребёнком",
        "Respite care: short-term childcare",
        "health_disability;parenting_relations",
        "disabled_child",
    ),
    "adaptive_sport": (
        "disabled_children",
        "Адаптивная физическая культура",
        "Adaptive physical education",
        "health_disability;child_development",
        "disabled_child",
    ),
    "supported_living": (
        "disabled_children",
        "Учебная квартира: подготовка к сопровождаемому проживанию",
        "Training flat: preparation for supported living",
        "health_disability;child_development",
        "disabled_child;teenager",
    ),
    "career_guidance": (
        "disabled_children",
        "Профориентация подростков с инвалидностью",
        "Career guidance for disabled teenagers",
        "child_development",
        "disabled_child;teenager",
    ),
    "parent_group": (
        "disabled_children",
        "Группа поддержки родителей детей с инвалидностью",
        "Support group for parents of disabled children",
        "parenting_relations",
        "disabled_child",
    ),
    "speech_therapy": (
        "disabled_children",
        "Логопедические и дефектологические занятия",
        "Speech therapy and special education sessions",
        "child_development;health_disability",
        "disabled_child",
    ),
    "sensory_room": (
        "disabled_children",
        "Занятия в сенсорной комнате",
        "Sensory room sessions",
        "health_disability;child_development",
        "disabled_child",
    ),
    "inclusive_arts": (
        "disabled_children",
        "Инклюзивные творческие мастерские",
        "Inclusive arts workshops",
        "child_development",
        "disabled_child",
    ),
    "social_taxi": (
        "disabled_children",
        "Социальное такси",
        "Social taxi",
        "health_disability;material",
        "disabled_child",
    ),
    "family_counselling": (
        "disabled_children",
        "Психологическое консультирование семей, воспитывающих детей с инвалидностью",
        "Psychological counselling for families raising disabled children",
        "parenting_relations;health_disability",
        "disabled_child",
    ),
    "toy_library": (
        "disabled_children",
        "Лекотека для детей раннего возраста",
        "Play library for young children",
        "child_development",
        "disabled_child;young_child",
    ),
    "summer_camp": (
        "disabled_children",
        "Летняя инклюзивная смена",
        "Inclusive summer camp",
        "child_development;health_disability",
        "disabled_child",
    ),
    "benefit_help": (
        "disabled_children",
        "Помощь в оформлении мер социальной поддержки семьям детей с инвалидностью",
        "Help applying for disability-related support",
        "material",
        "disabled_child",
    ),
    # Children in difficult life situations.
    "helpline": (
        "difficult_situation",
        "Телефон доверия для детей, подростков и родителей",
        "Helpline for children, teenagers and parents",
        "safety;parenting_relations",
        "any",
    ),
    "case_support": (
        "difficult_situation",
        "Социальное сопровождение семьи",
        "Social support for the family (case management)",
        "parenting_relations;material",
        "any",
    ),
    "day_care": (
        "difficult_situation",
        "Отделение дневного пребывания несовершеннолетних",
        "Day-care unit for minors",
        "child_development;safety",
        "any",
    ),
    "child_shelter": (
        "difficult_situation",
        "Временное размещение детей в социальном приюте",
        "Temporary shelter for children",
        "safety",
        "any",
    ),
    "mediation": (
        "difficult_situation",
        "Служба семейного примирения",
        "Family mediation service",
        "parenting_relations;safety",
        "any",
    ),
    "legal_advice": (
        "difficult_situation",
        "Бесплатная юридическая консультация",
        "Free legal advice",
        "material;safety",
        "any",
    ),
    "runaway_prevention": (
        "difficult_situation",
        "Профилактика самовольных уходов подростков",
        "Runaway prevention work with teenagers",
        "safety;child_development",
        "teenager",
    ),
    "tutoring": (
        "difficult_situation",
        "Помощь в учёбе и подготовке домашних заданий",
        "Tutoring and homework help",
        "child_development",
        "any",
    ),
    # Low-income families.
    "social_contract": (
        "low_income",
        "Помощь в заключении социального контракта",
        "Help applying for a social contract",
        "material",
        "low_income",
    ),
    "goods_bank": (
        "low_income",
        "Пункт выдачи одежды и продуктовых наборов",
        "Clothes and food parcels",
        "material",
        "low_income",
    ),
    "job_help": (
        "low_income",
        "Содействие в трудоустройстве родителей",
        "Job search help for parents",
        "material",
        "low_income",
    ),
    "school_kit": (
        "low_income",
        "Сбор ребёнка в школу",
        "Back-to-school kits",
        "material;child_development",
        "low_income",
    ),
    "budgeting": (
        "low_income",
        "Курс финансовой грамотности для семьи",
        "Household budgeting course",
        "material;parenting_relations",
        "low_income",
    ),
    "large_family_help": (
        "low_income",
        "Адресная помощь многодетным семьям",
        "Targeted help for large families",
        "material",
        "low_income;large_family",
    ),
    # Parenting schools.
    "parenting_school": (
        "parenting_school",
        "Школа ответственного родительства",
        "School of responsible parenting",
        "parenting_relations;child_development",
        "any",
    ),
    "teen_parents_school": (
        "parenting_school",
        "Школа для родителей подростков",
        "School for parents of teenagers",
        "parenting_relations",
        "teenager",
    ),
    "young_mother_school": (
        "parenting_school",
        "Школа молодой матери",
        "School for young mothers",
        "parenting_relations;health_disability",
        "young_child",
    ),
    # Family rehabilitation.
    "rehab_site": (
        "family_rehabilitation",
        "Площадка семейной реабилитации",
        "Family rehabilitation site",
        "parenting_relations;safety",
        "any",
    ),
    "family_camp": (
        "family_rehabilitation",
        "Выездная семейная смена",
        "Residential family camp",
        "parenting_relations;child_development",
        "any",
    ),
    "addiction_family": (
        "family_rehabilitation",
        "Реабилитация семей, где родители злоупотребляют алкоголем",
        "Rehabilitation for families affected by parental alcohol misuse",
        "safety;health_disability;parenting_relations",
        "any",
    ),
    # Temporary housing.
    "mother_hotel": (
        "temporary_housing",
        "Социальная гостиница для женщин с детьми",
        "Temporary housing for women with children",
        "safety;material",
        "any",
    ),
    # Leisure for teenagers (and their parents).
    "teen_club": (
        "teen_leisure",
        "Досуговый клуб для подростков и родителей",
        "Leisure club for teenagers and parents",
        "child_development;parenting_relations",
        "teenager",
    ),
    "teen_sport": (
        "teen_leisure",
        "Бесплатная спортивная секция для подростков",
        "Free sports club for teenagers",
        "child_development",
        "teenager",
    ),
    "teen_jobs": (
        "teen_leisure",
        "Летняя трудовая бригада для подростков",
        "Summer work brigade for teenagers",
        "child_development;material",
        "teenager",
    ),
}

# District code: (genitive in Russian, English name); used for the district social services centres.
DISTRICT_NAMES = {
    "berdsk": ("г. Бердска", "Berdsk"),
    "iskitimsky": ("Искитимского района", "Iskitimsky district"),
    "novosibirsky": ("Новосибирского района", "Novosibirsky district"),
    "karasuksky": ("Карасукского района", "Karasuksky district"),
    "barabinsky": ("Барабинского района", "Barabinsky district"),
    "tatarsky": ("Татарского района", "Tatarsky district"),
    "kuibyshevsky": ("Куйбышевского района", "Kuibyshevsky district"),
    "bolotninsky": ("Болотнинского района", "Bolotninsky district"),
    "vengerovsky": ("Венгеровского района", "Vengerovsky district"),
    "kupinsky": ("Купинского района", "Kupinsky district"),
    "ordynsky": ("Ордынского района", "Ordynsky district"),
    "starorussky": ("Старорусского района", "Starorussky district"),
    "valdaysky": ("Валдайского района", "Valdaysky district"),
    "chudovsky": ("Чудовского района", "Chudovsky district"),
    "malovishersky": ("Маловишерского района", "Malovishersky district"),
    "okulovsky": ("Окуловского района", "Okulovsky district"),
    "pestovsky": ("Пестовского района", "Pestovsky district"),
    "soletsky": ("Солецкого района", "Soletsky district"),
    "krestetsky": ("Крестецкого района", "Krestetsky district"),
    "shimsky": ("Шимского района", "Shimsky district"),
    "demyansky": ("Демянского района", "Demyansky district"),
    "khvoyninsky": ("Хвойнинского района", "Khvoyninsky district"),
}

# Organisation key: (name_ru, name_en, districts served or "*").
ORGANISATIONS: dict[str, tuple[str, str, str]] = {
    # Novosibirsk region.
    "nsk_nadezhda": (
        "Реабилитационный центр для детей и подростков с ограниченными возможностями «Надежда»",
        "“Nadezhda” rehabilitation centre for children and teenagers with disabilities",
        "*",
    ),
    "nsk_first_steps": (
        "Центр ранней помощи «Первые шаги»",
        "“First Steps” early intervention centre",
        "novosibirsk_city;berdsk;novosibirsky;iskitimsky",
    ),
    "nsk_raduga": (
        "Центр социальной помощи семье и детям «Радуга»",
        "“Raduga” family and children social assistance centre",
        "novosibirsk_city",
    ),
    "nsk_istok": (
        "Центр социальной помощи семье и детям «Исток»",
        "“Istok” family and children social assistance centre",
        "novosibirsk_city",
    ),
    "nsk_solnechny": (
        "Социально-реабилитационный центр для детей с ограниченными возможностями «Солнечный»",
        "“Solnechny” social rehabilitation centre for children with disabilities",
        "novosibirsk_city;novosibirsky",
    ),
    "nsk_access": (
        "Служба «Доступная среда»",
        "“Accessible Environment” service",
        "*",
    ),
    "nsk_parus": (
        "Реабилитационное отделение «Парус»",
        "“Parus” rehabilitation unit",
        "barabinsky;kuibyshevsky;tatarsky;vengerovsky;kupinsky",
    ),
    "nsk_stupeni": (
        "Центр дневного пребывания детей с инвалидностью «Ступени»",
        "“Stupeni” day centre for disabled children",
        "novosibirsk_city",
    ),
    "nsk_no_limits": (
        "Инклюзивный творческий центр «Мир без границ»",
        "“World Without Borders” inclusive arts centre",
        "novosibirsk_city;berdsk",
    ),
    "nsk_beryozka": (
        "Реабилитационное отделение «Берёзка»",
        "“Beryozka” rehabilitation unit",
        "karasuksky;kupinsky",
    ),
    "nsk_rodnik": (
        "Реабилитационное отделение «Родник»",
        "“Rodnik” rehabilitation unit",
        "bolotninsky;iskitimsky;ordynsky",
    ),
    "nsk_ogonyok": (
        "Социально-реабилитационный центр для несовершеннолетних «Огонёк»",
        "“Ogonyok” social rehabilitation centre for minors",
        "novosibirsk_city;novosibirsky",
    ),
    "nsk_helpline": (
        "Областная служба экстренной психологической помощи",
        "Regional emergency psychological help service",
        "*",
    ),
    "nsk_kompas": (
        "Центр социальной помощи семье и детям «Компас»",
        "“Kompas” family and children social assistance centre",
        "novosibirsk_city",
    ),
    "nsk_dobrodeya": (
        "Благотворительный центр «Добродея»",
        "“Dobrodeya” charity centre",
        "novosibirsk_city;berdsk;novosibirsky",
    ),
    "nsk_resource": (
        "Областной ресурсный центр семейного воспитания",
        "Regional resource centre for family upbringing",
        "*",
    ),
    "nsk_vera": (
        "Кризисный центр для женщин с детьми «Вера»",
        "“Vera” crisis centre for women with children",
        "novosibirsk_city;berdsk;novosibirsky",
    ),
    "nsk_mama": (
        "Социальная гостиница «Мама рядом»",
        "“Mama Ryadom” temporary housing",
        "barabinsky;kuibyshevsky;tatarsky;vengerovsky;kupinsky;karasuksky",
    ),
    "nsk_rovesnik": (
        "Молодёжный досуговый центр «Ровесник»",
        "“Rovesnik” youth leisure centre",
        "novosibirsk_city",
    ),
    # Novgorod region.
    "nvg_ladya": (
        "Областной реабилитационный центр для детей и подростков с ограниченными возможностями "
        "«Ладья»",
        "“Ladya” regional rehabilitation centre for children and teenagers with disabilities",
        "*",
    ),
    "nvg_family_novgorod": (
        "Новгородский центр социальной помощи семье и детям",
        "Novgorod family and children social assistance centre",
        "velikiy_novgorod;novgorodsky",
    ),
    "nvg_family_borovichi": (
        "Боровичский центр социальной помощи семье и детям",
        "Borovichi family and children social assistance centre",
        "borovichsky;pestovsky;khvoyninsky",
    ),
    "nvg_family_staraya_russa": (
        "Старорусский центр социальной помощи семье и детям",
        "Staraya Russa family and children social assistance centre",
        "starorussky;soletsky",
    ),
    "nvg_method": (
        "Областной методический центр социального обслуживания семьи и детей",
        "Regional methodical centre for family and children social services",
        "*",
    ),
    "nvg_helpline": (
        "Областной центр экстренной психологической помощи «Доверие»",
        "“Doverie” regional emergency psychological help centre",
        "*",
    ),
    "nvg_gavan": (
        "Социальный приют для детей и подростков «Гавань»",
        "“Gavan” social shelter for children and teenagers",
        "velikiy_novgorod;novgorodsky",
    ),
    "nvg_bereginya": (
        "Кризисное отделение для женщин с детьми «Берегиня»",
        "“Bereginya” crisis unit for women with children",
        "velikiy_novgorod;novgorodsky;chudovsky;shimsky",
    ),
    "nvg_yunost": (
        "Молодёжный центр «Юность»",
        "“Yunost” youth centre",
        "velikiy_novgorod",
    ),
}

# Districts with their own social services centre (Novosibirsk) or family department (Novgorod).
NSK_CENTRES = (
    "berdsk",
    "iskitimsky",
    "novosibirsky",
    "karasuksky",
    "barabinsky",
    "tatarsky",
    "kuibyshevsky",
    "bolotninsky",
    "vengerovsky",
    "kupinsky",
    "ordynsky",
)
NVG_FAMILY_DEPARTMENTS = (
    "starorussky",
    "valdaysky",
    "chudovsky",
    "malovishersky",
    "okulovsky",
    "pestovsky",
    "soletsky",
    "krestetsky",
    "shimsky",
    "demyansky",
    "khvoyninsky",
)

for _code in NSK_CENTRES:
    _ru, _en = DISTRICT_NAMES[_code]
    ORGANISATIONS[f"nsk_centre_{_code}"] = (
        f"Комплексный центр социального обслуживания населения {_ru}",
        f"Comprehensive social services centre, {_en}",
        _code,
    )
for _code in NVG_FAMILY_DEPARTMENTS:
    _ru, _en = DISTRICT_NAMES[_code]
    ORGANISATIONS[f"nvg_centre_{_code}"] = (
        f"Отделение по работе с семьёй комплексного центра социального обслуживания {_ru}",
        f"Family department, comprehensive social services centre, {_en}",
        _code,
    )

# Offers per region: (organisation key, template keys). Ids follow this order.
OFFERS: dict[str, list[tuple[str, str]]] = {
    "novosibirsk": [
        # Disabled children: 52 services in 22 organisations.
        (
            "nsk_nadezhda",
            "adaptive_sport supported_living career_guidance sensory_room summer_camp "
            "family_counselling",
        ),
        ("nsk_first_steps", "early_help toy_library speech_therapy family_counselling"),
        ("nsk_raduga", "respite parent_group inclusive_arts home_rehab"),
        ("nsk_istok", "respite parent_group speech_therapy benefit_help"),
        ("nsk_solnechny", "adaptive_sport speech_therapy sensory_room inclusive_arts"),
        ("nsk_access", "device_rental social_taxi"),
        ("nsk_parus", "speech_therapy sensory_room adaptive_sport"),
        ("nsk_stupeni", "respite inclusive_arts summer_camp"),
        ("nsk_no_limits", "inclusive_arts adaptive_sport"),
        ("nsk_beryozka", "speech_therapy adaptive_sport"),
        ("nsk_rodnik", "speech_therapy sensory_room"),
        ("nsk_centre_berdsk", "home_rehab parent_group"),
        ("nsk_centre_iskitimsky", "home_rehab parent_group"),
        ("nsk_centre_novosibirsky", "home_rehab benefit_help"),
        ("nsk_centre_barabinsky", "home_rehab parent_group"),
        ("nsk_centre_kuibyshevsky", "home_rehab benefit_help"),
        ("nsk_centre_karasuksky", "home_rehab"),
        ("nsk_centre_tatarsky", "home_rehab"),
        ("nsk_centre_bolotninsky", "home_rehab"),
        ("nsk_centre_vengerovsky", "home_rehab"),
        ("nsk_centre_kupinsky", "home_rehab"),
        ("nsk_centre_ordynsky", "home_rehab"),
        # Children in difficult life situations: 16 services.
        ("nsk_ogonyok", "day_care child_shelter runaway_prevention tutoring"),
        ("nsk_raduga", "case_support mediation"),
        ("nsk_istok", "case_support legal_advice"),
        ("nsk_helpline", "helpline"),
        ("nsk_centre_tatarsky", "case_support"),
        ("nsk_centre_vengerovsky", "case_support"),
        ("nsk_centre_kuibyshevsky", "case_support"),
        ("nsk_centre_bolotninsky", "case_support"),
        ("nsk_centre_karasuksky", "case_support"),
        ("nsk_centre_kupinsky", "case_support"),
        ("nsk_centre_ordynsky", "case_support"),
        # Low-income families: 15 services in 15 organisations.
        ("nsk_raduga", "social_contract"),
        ("nsk_istok", "job_help"),
        ("nsk_kompas", "school_kit"),
        ("nsk_dobrodeya", "goods_bank"),
        ("nsk_centre_berdsk", "budgeting"),
        ("nsk_centre_iskitimsky", "social_contract"),
        ("nsk_centre_novosibirsky", "large_family_help"),
        ("nsk_centre_karasuksky", "social_contract"),
        ("nsk_centre_barabinsky", "goods_bank"),
        ("nsk_centre_tatarsky", "social_contract"),
        ("nsk_centre_kuibyshevsky", "large_family_help"),
        ("nsk_centre_bolotninsky", "social_contract"),
        ("nsk_centre_vengerovsky", "social_contract"),
        ("nsk_centre_kupinsky", "goods_bank"),
        ("nsk_centre_ordynsky", "social_contract"),
        # Parenting schools, family rehabilitation, temporary housing, teenagers' leisure.
        ("nsk_resource", "parenting_school family_camp"),
        ("nsk_raduga", "young_mother_school"),
        ("nsk_centre_tatarsky", "teen_parents_school rehab_site teen_jobs"),
        ("nsk_centre_kuibyshevsky", "parenting_school rehab_site teen_club"),
        ("nsk_centre_bolotninsky", "parenting_school rehab_site"),
        ("nsk_centre_vengerovsky", "rehab_site"),
        ("nsk_ogonyok", "addiction_family"),
        ("nsk_vera", "mother_hotel"),
        ("nsk_mama", "mother_hotel"),
        ("nsk_rovesnik", "teen_club teen_sport"),
        ("nsk_centre_iskitimsky", "teen_sport"),
        ("nsk_centre_barabinsky", "teen_club"),
    ],
    "novgorod": [
        # Disabled children.
        (
            "nvg_ladya",
            "adaptive_sport sensory_room family_counselling summer_camp career_guidance "
            "device_rental",
        ),
        ("nvg_family_novgorod", "early_help respite parent_group"),
        ("nvg_family_borovichi", "early_help speech_therapy"),
        ("nvg_family_staraya_russa", "speech_therapy"),
        ("nvg_centre_valdaysky", "home_rehab"),
        ("nvg_centre_chudovsky", "home_rehab"),
        # Difficult life situations.
        ("nvg_helpline", "helpline"),
        ("nvg_gavan", "child_shelter day_care"),
        ("nvg_family_novgorod", "case_support mediation"),
        ("nvg_family_borovichi", "case_support"),
        ("nvg_family_staraya_russa", "case_support"),
        ("nvg_centre_valdaysky", "case_support"),
        ("nvg_centre_chudovsky", "case_support"),
        ("nvg_centre_malovishersky", "case_support"),
        ("nvg_centre_okulovsky", "case_support"),
        ("nvg_centre_krestetsky", "case_support"),
        # Low-income families.
        ("nvg_family_novgorod", "social_contract goods_bank"),
        ("nvg_family_borovichi", "social_contract"),
        ("nvg_family_staraya_russa", "social_contract"),
        ("nvg_centre_shimsky", "social_contract"),
        ("nvg_centre_demyansky", "social_contract"),
        ("nvg_centre_krestetsky", "large_family_help"),
        ("nvg_centre_valdaysky", "social_contract"),
        # Parenting schools, family rehabilitation, temporary housing, teenagers' leisure.
        ("nvg_method", "parenting_school"),
        ("nvg_family_novgorod", "young_mother_school"),
        ("nvg_family_borovichi", "teen_parents_school"),
        ("nvg_family_novgorod", "rehab_site"),
        ("nvg_family_staraya_russa", "rehab_site"),
        ("nvg_centre_demyansky", "addiction_family"),
        ("nvg_bereginya", "mother_hotel"),
        ("nvg_family_borovichi", "mother_hotel"),
        ("nvg_yunost", "teen_club teen_sport"),
        ("nvg_centre_okulovsky", "teen_club"),
    ],
}


def build_rows() -> list[dict[str, str]]:
    """Return the catalog rows, in file order (by region as listed, then by offer)."""
    rows: list[dict[str, str]] = []
    for region, offers in OFFERS.items():
        counters: dict[str, int] = {}
        for org_key, templates in offers:
            org_ru, org_en, districts = ORGANISATIONS[org_key]
            for key in templates.split():
                category, name_ru, name_en, domains, eligibility = TEMPLATES[key]
                code = CATEGORY_CODE[category]
                counters[code] = counters.get(code, 0) + 1
                rows.append(
                    {
                        "service_id": f"{REGION_CODE[region]}-{code}-{counters[code]:03d}",
                        "region": region,
                        "category": category,
                        "name_ru": name_ru,
                        "name_en": name_en,
                        "organisation_ru": org_ru,
                        "organisation_en": org_en,
                        "domains": domains,
                        "eligibility": eligibility,
                        "districts": districts,
                    }
                )
    return rows


def render(rows: list[dict[str, str]], region: str) -> str:
    """Render one region's rows as its pack's CSV: UTF-8, Unix line ends, quoting if needed."""
    buf = io.StringIO()
    columns = [c for c in COLUMNS if c != "region"]
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(r for r in rows if r["region"] == region)
    return buf.getvalue()


def main() -> None:
    """Write each region pack's catalogue, then load the packs back to validate them."""
    rows = build_rows()
    for region in REGIONS:
        (PACKS / region / "services.csv").write_text(render(rows, region), encoding="utf-8")
    from risk.regions import load_region

    for region in REGIONS:
        pack = load_region(PACKS / region)
        print(f"wrote {(PACKS / region / 'services.csv').relative_to(ROOT)}: {pack}")


if __name__ == "__main__":
    main()
