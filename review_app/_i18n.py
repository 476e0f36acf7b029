"""Every label, message and explanation of the review app, in Russian and English."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_decimal, format_percent

if TYPE_CHECKING:
    from risk.regions import RegionPack

Lang = Literal["ru", "en"]

#: Languages the app speaks; the first is the default.
LANGS: tuple[Lang, ...] = ("ru", "en")
LANG_NAMES: dict[str, str] = {"ru": "Русский", "en": "English"}

_TEXT: dict[str, tuple[str, str]] = {
    # frame
    "title": ("Ранняя поддержка семей: очередь проверки", "Early family support: review queue"),
    "banner": (
        "**Оценка модели — только подсказка.** Решения принимают люди. "
        "Обращение к семье — добровольное предложение помощи, а не проверка.",
        "**The model's score is advisory only.** Decisions are made by people. "
        "Outreach is a voluntary offer of help, not an investigation.",
    ),
    "who": (
        "Вы вошли как **{name}** ({role}); районы: {districts}",
        "Signed in as **{name}** ({role}); districts: {districts}",
    ),
    "model": ("{model}", "{model}"),
    "model_version": (
        "Модель оценки риска, версия {version}",
        "Risk assessment model, version {version}",
    ),
    "model_approved": (
        "Модель оценки риска (утверждённая версия)",
        "Risk assessment model (approved version)",
    ),
    "model_plain": ("Модель оценки риска", "Risk assessment model"),
    "logout": ("Выйти", "Log out"),
    "language": ("Язык", "Language"),
    "tab_queue": ("Моя очередь", "My queue"),
    "tab_card": ("Карточка семьи", "Family card"),
    "tab_supervisor": ("Руководитель", "Supervisor"),
    # queue
    "f_district": ("Район", "District"),
    "f_tier": ("Уровень", "Tier"),
    "f_status": ("Статус", "Status"),
    "all": ("Все", "All"),
    "needs_decision": ("Ждут решения", "Awaiting decision"),
    "refresh": ("Обновить", "Refresh"),
    "prev": ("← Назад", "← Previous"),
    "next": ("Вперёд →", "Next →"),
    "page": ("Страница", "Page"),
    "queue_summary": (
        "Показаны {first}–{last} из {total}; просрочено: **{overdue}**. "
        "Срок рассмотрения — {sla}. Нажмите на строку, чтобы открыть карточку.",
        "Showing {first}–{last} of {total}; overdue: **{overdue}**. "
        "Review within {sla}. Click a row to open the family card.",
    ),
    "queue_empty": ("В очереди нет семей по этим фильтрам.", "No families match these filters."),
    "col_flag": ("Флаг", "Flag"),
    "col_family": ("Семья", "Family"),
    "col_district": ("Район", "District"),
    "col_tier": ("Уровень", "Tier"),
    "col_score": ("Оценка", "Score"),
    "col_age": ("В очереди, раб. дн.", "Waiting, working days"),
    "col_sla": ("Срок", "SLA"),
    "col_status": ("Статус", "Status"),
    "overdue": ("⚠ просрочено", "⚠ overdue"),
    "in_time": ("в срок", "on time"),
    "open_flag": ("Открыть флаг №", "Open flag no."),
    "open": ("Открыть", "Open"),
    # card
    "card_none": (
        "Выберите семью в очереди, чтобы открыть её карточку.",
        "Pick a family in the queue to open its card.",
    ),
    "composition": ("Состав семьи", "Family"),
    "family_line": (
        "Семья **{family}** · {district} · {settlement} · флаг №{flag} · статус: {status}",
        "Family **{family}** · {district} · {settlement} · flag no. {flag} · status: {status}",
    ),
    "children": ("Дети: {n} (возраст: {ages})", "Children: {n} (ages: {ages})"),
    "no_children": ("Детей младше 18 лет в записях нет", "No children under 18 in the records"),
    "single_parent": ("один родитель", "single parent"),
    "large_family": ("многодетная семья", "large family"),
    "disabled_child": ("ребёнок с инвалидностью", "child with a disability"),
    "low_income": ("малоимущая семья", "low income"),
    "urban": ("город", "urban"),
    "rural": ("село", "rural"),
    "score_head": ("Оценка модели", "Model score"),
    "score_line": (
        "Вероятность трудностей в ближайшие 12 месяцев: **{p}** "
        "(в среднем по региону {base}; {ratio}). Уровень: **{tier}**, "
        "№{rank} в районе при возможностях на {capacity} семей.",
        "Probability of difficulties in the next 12 months: **{p}** "
        "(regional average {base}; {ratio}). Tier: **{tier}**, "
        "no. {rank} in the district with capacity for {capacity} families.",
    ),
    "ratio_higher": ("в {x} раза выше среднего", "{x} times the average"),
    "ratio_lower": ("ниже среднего", "below the average"),
    "uncertainty": (
        "Это оценка по записям ведомств, а не факт о семье. Из 100 семей с такой оценкой "
        "примерно у {k} трудности будут, а у {rest} — нет. Записи бывают неполными или "
        "ошибочными, и модель не видит того, чего нет в записях (см. ниже). "
        "{model}; записи на {as_of}.",
        "This is an estimate from agency records, not a fact about the family. Of 100 families "
        "with this score, about {k} would face difficulties and {rest} would not. Records can be "
        "incomplete or wrong, and the model cannot see what is not recorded (see below). "
        "{model}; records as of {as_of}.",
    ),
    "explain_head": ("Что повлияло на оценку", "What drove the score"),
    "explain_domain": ("{domain} — вместе {total}", "{domain} — together {total}"),
    "exact_head": ("Точные значения", "Exact figures"),
    "exact_totals": (
        "логит семьи {log_odds}, средней семьи {base}; вклады в логит",
        "the family's log-odds {log_odds}, the average family's {base}; contributions in log-odds",
    ),
    "others": (
        "ещё {n} вместе: {total}",
        "another {n}, together: {total}",
    ),
    "blind_head": ("Чего модель не видит", "What the model cannot see"),
    "blind_none": (
        "Записи есть во всех источниках за период наблюдения.",
        "Every source has records for this family in the lookback.",
    ),
    "blind_some": (
        "Нет ни одной записи за период наблюдения из источников: {sources}. "
        "Отсутствие записей не означает отсутствия трудностей.",
        "No records in the lookback from: {sources}. No records does not mean no difficulties.",
    ),
    "feed_missing": (
        "⚠ Данные неполные: в районе семьи перед этой оценкой перестали поступать или резко "
        "сократились записи из источников: {sources}. Оценка сделана без них и может быть "
        "занижена.",
        "⚠ Incomplete data: before this run, records from {sources} went silent or fell "
        "sharply in the family's district. The estimate was made without them and may be too "
        "low.",
    ),
    "needs_head": ("Потребности", "Needs"),
    "services_head": ("Услуги, доступные в районе", "Services available in the district"),
    "services_none": ("Подходящих услуг в каталоге нет.", "No matching services in the catalog."),
    "timeline_head": ("Записи о семье", "The family's records"),
    "decisions_head": ("Прежние решения по семье", "Previous decisions for this family"),
    "decisions_none": ("Решений по этой семье ещё нет.", "No decisions for this family yet."),
    "decision_line": (
        "{at} · {user} · **{decision}** · {agree}{services} — {rationale}",
        "{at} · {user} · **{decision}** · {agree}{services} — {rationale}",
    ),
    "agree_short": ("согласен с моделью", "agrees with the model"),
    "disagree_short": ("не согласен с моделью", "disagrees with the model"),
    # decision form
    "decide_head": ("Решение специалиста", "Specialist's decision"),
    "decision": ("Решение", "Decision"),
    "suggested": ("Предложенные услуги", "Suggested services"),
    "catalog": ("Другие услуги района", "Other services in the district"),
    "rationale": ("Обоснование (не короче {n} символов)", "Rationale (at least {n} characters)"),
    "rationale_ph": (
        "Что вы узнали и почему выбрали это решение",
        "What you learned and why you chose this decision",
    ),
    "agreement": ("Согласны ли вы с моделью?", "Do you agree with the model?"),
    "agree": ("Согласен: семье нужно внимание", "Agree: the family needs attention"),
    "disagree": ("Не согласен", "Disagree"),
    "save": ("Сохранить решение", "Save decision"),
    "saved": (
        "✅ Решение сохранено: **{decision}** по флагу №{flag} ({at}).",
        "✅ Decision saved: **{decision}** on flag no. {flag} ({at}).",
    ),
    "dispute_head": ("Оспорить запись", "Dispute a record"),
    "dispute_record": ("Запись", "Record"),
    "dispute_reason": ("Причина (не короче {n} символов)", "Reason (at least {n} characters)"),
    "dispute_btn": ("Отметить как оспоренную", "Mark as disputed"),
    "disputed": (
        "✅ Запись отмечена как оспоренная; при следующей оценке семьи она не учитывается.",
        "✅ The record is marked as disputed; it is left out when the family is scored again.",
    ),
    # refusals
    "refused": ("Не сохранено", "Not saved"),
    "err_login": ("Войдите в систему.", "Please log in."),
    "err_last_admin": (
        "Нельзя отключить или лишить роли последнего действующего администратора.",
        "The last active admin cannot be disabled or demoted.",
    ),
    "err_no_such_user": ("Такого пользователя нет.", "There is no such user."),
    "err_user_exists": (
        "Пользователь с таким именем уже есть.",
        "A user with this name already exists.",
    ),
    "err_bad_user_name": (
        "Имя для входа: от 1 до 128 букв, цифр или знаков «._@-», первая — буква или цифра.",
        "Login name: 1 to 128 letters, digits or '._@-', starting with a letter or digit.",
    ),
    "err_bad_role": (
        "Выберите роль: специалист, руководитель или администратор.",
        "Pick a role: specialist, supervisor or administrator.",
    ),
    "err_blank_district": (
        "Название района не может быть пустым.",
        "A district's name cannot be blank.",
    ),
    "err_needs_district": (
        "Специалисту и руководителю нужен хотя бы один район.",
        "A specialist or a supervisor needs at least one district.",
    ),
    "err_short_password": ("Пароль: не менее {n} знаков.", "Password: at least {n} characters."),
    "err_long_password": ("Пароль слишком длинный.", "The password is too long."),
    "err_access": ("Нет доступа к этой семье.", "No access to this family."),
    "err_conflict": (
        "Конфликт: карточка изменилась после того, как вы её открыли. Обновите её.",
        "Conflict: the item changed after you opened it. Reload it.",
    ),
    "err_invalid": ("Решение не принято.", "The decision was refused."),
    "err_rationale": (
        "Нужно обоснование не короче {n} символов.",
        "A rationale of at least {n} characters is required.",
    ),
    "err_unknown": ("Не найдено.", "Not found."),
    "err_district": (
        "У вас нет доступа к семьям этого района: {district}.",
        "You have no access to families in this district: {district}.",
    ),
    "err_no_user": ("Войдите в систему.", "Please log in."),
    "err_unknown_user": (
        "Вашей учётной записи больше нет. Войдите заново.",
        "Your account no longer exists. Please log in again.",
    ),
    "err_unknown_decision": ("Выберите решение из списка.", "Pick a decision from the list."),
    "err_rationale_short": (
        "Обоснование слишком короткое: нужно не меньше {min} символов (сейчас {got}).",
        "The rationale is too short: at least {min} characters are needed (now {got}).",
    ),
    "err_rationale_long": (
        "Обоснование слишком длинное: не больше {max} символов (сейчас {got}).",
        "The rationale is too long: at most {max} characters (now {got}).",
    ),
    "err_rationale_words": (
        "Напишите обоснование словами: хотя бы {words} слова.",
        "Write the rationale in words: at least {words} words.",
    ),
    "err_services_blank": (
        "У одной из услуг нет названия.",
        "One of the services has no name.",
    ),
    "err_services_too_many": (
        "Слишком много услуг: не больше {max}.",
        "Too many services: at most {max}.",
    ),
    "err_services_required": (
        "Отметьте хотя бы одну услугу, предложенную семье.",
        "Pick at least one service offered to the family.",
    ),
    "err_services_not_allowed": (
        "Услуги отмечаются только при решении «Предложена помощь», а выбрано «{decision}».",
        "Services go only with the decision 'Support offered'; the decision is '{decision}'.",
    ),
    "err_agreement_required": (
        "Укажите, согласны ли вы с моделью.",
        "Say whether you agree with the model.",
    ),
    "err_dispute_reason_short": (
        "Причина слишком короткая: нужно не меньше {min} символов (сейчас {got}).",
        "The reason is too short: at least {min} characters are needed (now {got}).",
    ),
    "err_dispute_reason_long": (
        "Причина слишком длинная: не больше {max} символов (сейчас {got}).",
        "The reason is too long: at most {max} characters (now {got}).",
    ),
    "err_no_item": ("Такой карточки в очереди нет.", "There is no such item in the queue."),
    "err_family_not_queued": (
        "Этой семьи нет в очереди проверки.",
        "This family is not in the review queue.",
    ),
    "err_already_decided": (
        "По этой карточке решение уже принято. Обновите карточку.",
        "This item has already been decided. Reload the card.",
    ),
    "err_changed": (
        "Карточка изменилась после того, как вы её открыли. Обновите её.",
        "The item changed after you opened it. Reload it.",
    ),
    "err_note_empty": ("Заметка пустая.", "The note is empty."),
    "err_note_long": (
        "Заметка слишком длинная: не больше {max} символов.",
        "The note is too long: at most {max} characters.",
    ),
    "err_follow_up_closed": ("Сопровождение уже закрыто.", "The follow-up is already closed."),
    "err_before_opened": (
        "Дата раньше, чем открыто сопровождение.",
        "The date is before the follow-up was opened.",
    ),
    "err_service_not_in_district": (
        "Этой услуги нет в перечне услуг района.",
        "This service is not in the district's list of services.",
    ),
    "err_date_invalid": ("Укажите дату.", "Give a date."),
    "err_date_future": ("Дата ещё не наступила.", "The date is in the future."),
    "err_decided_first": (
        "Другой специалист успел принять решение раньше. Обновите карточку.",
        "Another specialist recorded a decision first. Reload the card.",
    ),
    "err_store": ("Хранилище недоступно, попробуйте позже.", "The store is unavailable; retry."),
    "err_other": ("Отказано.", "Refused."),
    "err_no_card": (
        "Сначала откройте карточку семьи.",
        "Open the family card first.",
    ),
    "err_not_in_card": (
        "Эта запись не относится к открытой семье.",
        "This record does not belong to the open family.",
    ),
    "err_pick_decision": ("Выберите решение.", "Pick a decision."),
    "err_pick_agreement": (
        "Укажите, согласны ли вы с моделью.",
        "Say whether you agree with the model.",
    ),
    "err_supervisor": (
        "Этот раздел — для руководителей.",
        "This view is for supervisors.",
    ),
    # supervisor
    "sup_head": ("Обзор для руководителя", "Supervisor overview"),
    "sup_counts": (
        "Ждут решения: **{waiting}**, из них просрочено: **{overdue}**, передано руководителю: "
        "**{escalated}**. Решений всего: **{decided}**; согласие специалистов с моделью: "
        "**{agree}**.",
        "Awaiting decision: **{waiting}**, of which overdue: **{overdue}**, escalated: "
        "**{escalated}**. Decisions recorded: **{decided}**; specialists agree with the model: "
        "**{agree}**.",
    ),
    "sup_overdue": ("Просроченные и переданные руководителю", "Overdue and escalated items"),
    "sup_by_outcome": ("Решения по исходу", "Decisions by outcome"),
    "sup_agreement": (
        "Согласие с моделью по специалистам",
        "Agreement with the model by specialist",
    ),
    "sup_fairness": (
        "Справедливость решений человека и модели по группам",
        "Fairness of the combined human and model decisions by group",
    ),
    "sup_fairness_note": (
        "По принятым решениям: «охват» — доля семей, которым предложили помощь, направили или "
        "которые отказались (т. е. к ним обратились); «согласие» — доля решений, где специалист "
        "согласился с моделью. Отношения к опорной группе вне [{low}; {high}] отмечены «!».",
        "Over recorded decisions: 'outreach' is the share of families offered support, referred "
        "or who declined (i.e. were reached out to); 'agreement' is the share of decisions where "
        "the specialist agreed with the model. Ratios to the reference group outside "
        "[{low}, {high}] are marked '!'.",
    ),
    "sup_fairness_none": (
        "Пока слишком мало решений для разбора по группам.",
        "Too few decisions yet for a breakdown by group.",
    ),
    "col_n": ("Решений", "Decisions"),
    "col_outreach": ("Охват", "Outreach"),
    "col_agreement": ("Согласие", "Agreement"),
    "col_mean_score": ("Средняя оценка", "Mean score"),
    "col_group": ("Группа", "Group"),
    "col_attribute": ("Признак", "Attribute"),
    "col_user": ("Специалист", "Specialist"),
    "col_count": ("Число", "Count"),
    "col_decision": ("Решение", "Decision"),
    "col_escalated": ("Передано", "Escalated"),
    "plot_waterfall": ("Вклад признаков в оценку (логит)", "Contributions to the score (log-odds)"),
    "plot_base": ("Среднее по региону", "Regional average"),
    "plot_final": ("Оценка семьи", "Family's score"),
    "plot_other": ("Остальные: {n}", "Others: {n}"),
    "plot_prob": ("вероятность", "probability"),
    "plot_logit": ("логит (log-odds)", "log-odds"),
    "plot_timeline": ("Записи о семье по источникам", "The family's records by source"),
    "plot_as_of": ("дата оценки", "scored on"),
    "plot_outcomes": ("Решения по исходу", "Decisions by outcome"),
    "plot_no_data": ("Нет данных", "No data"),
    # the family's own report
    "family_report_btn": ("Отчёт для семьи", "Report for the family"),
    "family_report_file": ("Отчёт для семьи (файл)", "Report for the family (file)"),
    "family_report_done": (
        "Отчёт готов: сведения о семье без оценки модели. Передайте его семье.",
        "The report is ready: the family's records without the model's score. Give it to the "
        "family.",
    ),
    # administration
    "tab_admin": ("Администрирование", "Administration"),
    "admin_head": ("Пользователи", "Users"),
    "admin_user": ("Имя для входа", "Login name"),
    "admin_role": ("Роль", "Role"),
    "admin_districts": ("Районы", "Districts"),
    "admin_password": ("Новый пароль (не менее 8 знаков)", "New password (at least 8 characters)"),
    "admin_add": ("Добавить", "Add"),
    "admin_disable": ("Отключить", "Disable"),
    "admin_enable": ("Включить", "Enable"),
    "admin_unlock": ("Снять блокировку", "Unlock"),
    "admin_reset": ("Сменить пароль", "Reset password"),
    "admin_set_role": ("Сменить роль", "Change role"),
    "admin_set_districts": ("Сменить районы", "Change districts"),
    "admin_history": ("История пользователя", "User's history"),
    "admin_pick_user": ("Укажите пользователя.", "Give the user's login name."),
    "admin_pick_role": ("Выберите роль.", "Pick a role."),
    "admin_no_password": ("Введите новый пароль.", "Type the new password."),
    "admin_not_admin": (
        "Это могут только администраторы.",
        "Only administrators can do this.",
    ),
    "admin_unknown_district": (
        "Таких районов нет в регионе: {districts}",
        "These districts are not in the region: {districts}",
    ),
    "admin_done": ("Готово: {user} — {what}.", "Done: {user} — {what}."),
    "admin_history_empty": ("Записей нет.", "No entries."),
    "col_name": ("Имя", "Name"),
    "col_role": ("Роль", "Role"),
    "col_districts": ("Районы", "Districts"),
    "col_active": ("Активен", "Active"),
    "col_locked": ("Заблокирован до", "Locked until"),
    "col_at": ("Когда", "When"),
    "col_actor": ("Кто", "Who"),
    "col_action": ("Действие", "Action"),
    "col_subject": ("Объект", "Subject"),
    "col_details": ("Подробности", "Details"),
    "yes": ("да", "yes"),
    "no": ("нет", "no"),
    "disputed_mark": ("оспорена", "disputed"),
}

ROLE_NAMES: dict[str, tuple[str, str]] = {
    "specialist": ("специалист", "specialist"),
    "supervisor": ("руководитель", "supervisor"),
    "admin": ("администратор", "administrator"),
}
TIER_NAMES: dict[str, tuple[str, str]] = {
    "priority": ("приоритетный", "priority"),
    "support": ("поддержка", "support"),
    "universal": ("общий", "universal"),
}
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "open": ("открыт", "open"),
    "escalated": ("у руководителя", "escalated"),
    "decided": ("решено", "decided"),
}
DECISION_NAMES: dict[str, tuple[str, str]] = {
    "support_offered": ("Предложена помощь", "Support offered"),
    "no_outreach_needed": ("Обращение не требуется", "No outreach needed"),
    "referred": ("Направлено в другое ведомство", "Referred to another agency"),
    "insufficient_information": ("Недостаточно сведений", "Insufficient information"),
    "family_declined": ("Семья отказалась", "Family declined"),
}
#: Need domains (as ``features.DOMAIN_NAMES``; a test keeps them equal).
DOMAIN_NAMES: dict[str, tuple[str, str]] = {
    "material": ("Материальное положение", "Material situation"),
    "health_disability": ("Здоровье и инвалидность", "Health and disability"),
    "parenting_relations": ("Родительство и отношения", "Parenting and relationships"),
    "child_development": ("Развитие и обучение ребёнка", "Child development and education"),
    "safety": ("Безопасность", "Safety"),
}
#: Record sources (as ``features._schema.SOURCE_NAMES``; a test keeps them equal).
SOURCE_NAMES: dict[str, tuple[str, str]] = {
    "social_protection": ("Социальная защита", "Social protection"),
    "education": ("Образование", "Education"),
    "health": ("Здравоохранение", "Health"),
    "police": ("Полиция", "Police"),
    "employment": ("Занятость", "Employment"),
    "housing": ("ЖКХ", "Housing and utilities"),
}
ATTRIBUTE_NAMES: dict[str, tuple[str, str]] = {
    "district": ("Район", "District"),
    "tier": ("Уровень", "Tier"),
    "settlement": ("Тип поселения", "Settlement"),
    "single_parent": ("Один родитель", "Single parent"),
    "large_family": ("Многодетная", "Large family"),
    "disabled_child": ("Ребёнок с инвалидностью", "Disabled child"),
    "low_income": ("Малоимущая", "Low income"),
}
#: Values of the yes/no and settlement attributes in the fairness table.
GROUP_NAMES: dict[str, tuple[str, str]] = {
    "True": ("да", "yes"),
    "False": ("нет", "no"),
    "missing": ("нет данных", "missing"),
    "urban": ("город", "urban"),
    "rural": ("село", "rural"),
}

#: District names by code, of the region the app serves (what a specialist reads instead of
#: codes): filled by :func:`use_region`, with the default region pack on first use.
DISTRICT_NAMES: dict[str, tuple[str, str]] = {}


def use_region(pack: RegionPack) -> None:
    """Show the districts' names and local times of ``pack``, the region served, from now on.

    One app process serves one region, so the names are the module's (the views and cards
    read them without being handed the region).

    Examples
    --------
    >>> from risk.regions import load_region
    >>> use_region(load_region("novosibirsk"))
    >>> district_name("tatarsky", "en"), district_name("shimsky", "en")
    ('Tatarsky district', 'shimsky')
    >>> use_region(load_region())
    """
    names = {d.code: (d.name_ru, d.name_en) for d in pack.districts}
    DISTRICT_NAMES.clear()
    DISTRICT_NAMES.update(names)
    use_timezone(pack.timezone)


def district_name(code: str, lang: Lang) -> str:
    """Return the district's name in ``lang``; an unknown code is shown as it is.

    Examples
    --------
    >>> district_name("velikiy_novgorod", "ru"), district_name("velikiy_novgorod", "en")
    ('Великий Новгород', 'Veliky Novgorod')
    >>> district_name("no_such_place", "ru")
    'no_such_place'
    """
    if not DISTRICT_NAMES:
        from risk.regions import load_region

        use_region(load_region())
    return name(DISTRICT_NAMES, str(code), lang)


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if the app speaks it.

    Raises
    ------
    ValueError
        Naming the languages available.

    Examples
    --------
    >>> check_lang("en")
    'en'
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang


def t(lang: Lang, key: str, **values: object) -> str:
    """Return the text ``key`` in ``lang``, formatted with ``values``.

    Examples
    --------
    >>> t("en", "others", n="3 signals", total="+0.2")
    'another 3 signals, together: +0.2'
    >>> t("ru", "tab_queue")
    'Моя очередь'
    """
    text = _TEXT[key][LANGS.index(lang)]
    return text.format(**values) if values else text


def name(table: dict[str, tuple[str, str]], code: str, lang: Lang) -> str:
    """Return the name of ``code`` in ``table`` in ``lang`` (the code itself if unnamed).

    Examples
    --------
    >>> name(TIER_NAMES, "priority", "ru"), name(TIER_NAMES, "other", "ru")
    ('приоритетный', 'other')
    """
    pair = table.get(code)
    return code if pair is None else pair[LANGS.index(lang)]


def text_keys() -> tuple[str, ...]:
    """Every text key (for tests: each has both languages)."""
    return tuple(_TEXT)


@functools.cache
def _locale(lang: Lang) -> Locale:
    return Locale.parse(lang)


def number(value: float, lang: Lang, digits: int = 0) -> str:
    r"""Format a number by the language's CLDR rules (Babel): grouping and decimal marks.

    Examples
    --------
    >>> number(12500, "ru"), number(12500, "en"), number(1.25, "ru", 1)
    ('12\xa0500', '12,500', '1,2')
    """
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return str(format_decimal(value, format=pattern, locale=_locale(lang)))


def percent(p: float, lang: Lang) -> str:
    r"""Format a probability as a percentage by CLDR rules (one decimal under 10 %).

    Examples
    --------
    >>> percent(0.0734, "ru"), percent(0.42, "en")
    ('7,3\xa0%', '42%')
    """
    pattern = "#,##0.0%" if p < 0.1 else "#,##0%"
    if lang == "ru":
        pattern = pattern.replace("%", "\u00a0%")
    return str(format_percent(p, format=pattern, locale=_locale(lang)))


def plural(n: float, lang: Lang, forms: Mapping[str, str]) -> str:
    """Pick the word for ``n`` by the language's CLDR plural category (``one``, ``few``, ...).

    ``forms`` maps categories to words; ``other`` is the fallback.

    Examples
    --------
    >>> days = {"one": "день", "few": "дня", "many": "дней", "other": "дня"}
    >>> [plural(n, "ru", days) for n in (1, 2, 5, 11, 21, 23, 1.5)]
    ['день', 'дня', 'дней', 'дней', 'день', 'дня', 'дня']
    >>> plural(1, "en", {"one": "day", "other": "days"})
    'day'
    """
    return forms.get(_locale(lang).plural_form(abs(n)), forms["other"])


def plural_ru(n: float, one: str, few: str, many: str) -> str:
    """Pick the Russian plural form for ``n`` (CLDR's rule, as :func:`plural`).

    Examples
    --------
    >>> [plural_ru(n, "день", "дня", "дней") for n in (1, 2, 5, 11, 21, 23, 1.5)]
    ['день', 'дня', 'дней', 'дней', 'день', 'дня', 'дня']
    """
    return plural(n, "ru", {"one": one, "few": few, "many": many, "other": few})


#: Words counted with a number, by CLDR plural category, in Russian and English.
COUNTED: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "working_days": (
        {
            "one": "рабочий день",
            "few": "рабочих дня",
            "many": "рабочих дней",
            "other": "рабочего дня",
        },
        {"one": "working day", "other": "working days"},
    ),
    "signals": (
        {"one": "признак", "few": "признака", "many": "признаков", "other": "признака"},
        {"one": "signal", "other": "signals"},
    ),
}


def count(n: int, what: str, lang: Lang) -> str:
    """Say ``n`` of ``what`` (a key of :data:`COUNTED`) with the number and its plural form.

    Examples
    --------
    >>> [count(n, "working_days", "ru") for n in (1, 3, 10, 21)]
    ['1 рабочий день', '3 рабочих дня', '10 рабочих дней', '21 рабочий день']
    >>> count(1, "working_days", "en")
    '1 working day'
    """
    return f"{number(n, lang)} {plural(n, lang, COUNTED[what][LANGS.index(lang)])}"


#: The time zone times are shown in (:func:`use_timezone`); ``None``: the default region's.
_ZONE: dict[str, str] = {}


def use_timezone(zone: str | None) -> None:
    """Show times in ``zone`` (an IANA name, the region pack's ``timezone``) from now on.

    ``None`` goes back to the default region's time zone. The app serves one region, so the
    zone is the process's.
    """
    if zone is None:
        _ZONE.pop("zone", None)
    else:
        get_timezone(zone)  # an unknown name fails here, not on the first page
        _ZONE["zone"] = zone


def timezone_name() -> str:
    """Return the time zone times are shown in (the default region pack's unless set).

    Examples
    --------
    >>> timezone_name()
    'Europe/Moscow'
    """
    if "zone" not in _ZONE:
        from risk.regions import DEFAULT_REGION, load_region

        _ZONE["zone"] = load_region(DEFAULT_REGION).timezone
    return _ZONE["zone"]


def when(at: datetime | date | str, lang: Lang, *, zone: str | None = None) -> str:
    """Format a moment as a person reads it: the date in words and the local time.

    A naive time is UTC (as the store keeps it); it is shown in ``zone`` (default:
    :func:`timezone_name`). A date alone is shown without a time.

    Examples
    --------
    >>> from datetime import datetime
    >>> when(datetime(2026, 5, 3, 14, 6), "ru", zone="Europe/Moscow")
    '3 мая 2026, 17:06'
    >>> when(datetime(2026, 9, 3, 14, 6), "en", zone="Europe/Moscow")
    '3 September 2026, 17:06'
    >>> when("2026-11-12", "ru")
    '12 ноября 2026'
    """
    if isinstance(at, str):
        at = (
            datetime.fromisoformat(at) if "T" in at or " " in at.strip() else date.fromisoformat(at)
        )
    if not isinstance(at, datetime):
        return str(format_date(at, format="d MMMM y", locale=_locale(lang)))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    tz = get_timezone(zone or timezone_name())
    day = format_date(at.astimezone(tz).date(), format="d MMMM y", locale=_locale(lang))
    return f"{day}, {format_datetime(at, 'HH:mm', tzinfo=tz, locale=_locale(lang))}"


def month_label(at: date, lang: Lang) -> str:
    """Name a month with its year for a chart axis ("май 2026", "May 2026").

    Examples
    --------
    >>> from datetime import date
    >>> month_label(date(2026, 9, 1), "ru"), month_label(date(2026, 5, 1), "en")
    ('сент. 2026', 'May 2026')
    """
    return str(format_date(at, format="LLL y", locale=_locale(lang)))


def model_label(uri: str, lang: Lang) -> str:
    """Name the model for a person: what it is and which version, never a URI.

    Examples
    --------
    >>> model_label("models:/family-distress@champion", "ru")
    'Модель оценки риска (утверждённая версия)'
    >>> model_label("models:/family-distress/3", "en")
    'Risk assessment model, version 3'
    >>> model_label("family-distress@1", "ru")
    'Модель оценки риска, версия 1'
    """
    text = str(uri).removeprefix("models:/")
    version = ""
    if "@" in text:
        version = text.rsplit("@", 1)[1]
    elif "/" in text:
        version = text.rsplit("/", 1)[1]
    if version.isdigit():
        return t(lang, "model_version", version=version)
    if version:
        return t(lang, "model_approved")
    return t(lang, "model_plain")


# -- escalation, supervisors' actions and follow-ups --------------------------------------------

_TEXT.update(
    {
        "sup_actions": ("Действия с просроченной карточкой", "Act on an overdue item"),
        "col_assigned": ("Передано специалисту", "Reassigned to"),
        "col_fu_opened": ("Сопровождение открыто", "Follow-up opened"),
        "sup_late_follow_ups": (
            "Сопровождение без первого контакта в срок (передано руководителю)",
            "Follow-ups without a first contact in time (escalated)",
        ),
        "sup_flag": ("Номер карточки", "Item number"),
        "sup_load": ("Выбрать", "Select"),
        "sup_assign_to": ("Передать специалисту", "Reassign to specialist"),
        "sup_reassign": ("Передать", "Reassign"),
        "sup_note": ("Заметка руководителя", "Supervisor's note"),
        "sup_add_note": ("Добавить заметку", "Add note"),
        "sup_open_decide": ("Открыть и решить самому", "Open and decide yourself"),
        "sup_reassigned": (
            "Карточка {flag} передана специалисту **{to}**.",
            "Item {flag} reassigned to **{to}**.",
        ),
        "sup_noted": (
            "Заметка {id} добавлена к карточке {flag}.",
            "Note {id} added to item {flag}.",
        ),
        "sup_notes_none": ("Заметок пока нет.", "No notes yet."),
        "sup_notes": ("Заметки", "Notes"),
        "sup_no_specialists": (
            "В районе карточки нет специалистов, которым её можно передать.",
            "The item's district has no specialist to reassign it to.",
        ),
        "fu_head": ("Сопровождение семьи", "Follow-up with the family"),
        "fu_none": (
            "Сопровождение открывается решением «предложена помощь» или «направлена».",
            "A follow-up opens with a decision of 'support offered' or 'referred'.",
        ),
        "fu_state": (
            "Сопровождение {id}: **{status}**; открыто {opened}; работа с семьёй начата: "
            "{started}; первый контакт — в течение {due}.",
            "Follow-up {id}: **{status}**; opened {opened}; outreach started: {started}; "
            "first contact due within {due}.",
        ),
        "fu_closed": (
            "Закрыто {at}: **{outcome}** — {rationale}",
            "Closed {at}: **{outcome}** — {rationale}",
        ),
        "fu_not_started": ("ещё нет", "not yet"),
        "fu_steps_none": ("Шагов пока нет.", "No steps yet."),
        "fu_date": ("Дата (ГГГГ-ММ-ДД)", "Date (YYYY-MM-DD)"),
        "fu_channel": ("Способ связи", "Channel"),
        "fu_reached": ("Удалось связаться", "Family reached"),
        "fu_note": ("Комментарий", "Note"),
        "fu_contact": ("Записать контакт", "Record contact"),
        "fu_service": ("Услуга", "Service"),
        "fu_stage": ("Этап", "Stage"),
        "fu_record_service": ("Отметить услугу", "Record service"),
        "fu_declined": ("Семья отказалась", "Family declined"),
        "fu_outcome": ("Итог", "Outcome"),
        "fu_rationale": ("Обоснование итога", "Rationale for the outcome"),
        "fu_close": ("Закрыть сопровождение", "Close follow-up"),
        "fu_saved": ("Записано (версия {version}).", "Recorded (version {version})."),
        "fu_bad_date": (
            "Дата должна быть в виде ГГГГ-ММ-ДД; получено «{value}».",
            "The date must be YYYY-MM-DD; got '{value}'.",
        ),
        "fu_col_date": ("Дата", "Date"),
        "fu_col_kind": ("Шаг", "Step"),
        "fu_col_detail": ("Подробности", "Details"),
        "fu_col_user": ("Кто записал", "Recorded by"),
        "fu_yes": ("да", "yes"),
        "fu_no": ("нет", "no"),
    }
)

FOLLOW_UP_STATUS_NAMES: dict[str, tuple[str, str]] = {
    "open": ("идёт", "under way"),
    "escalated": ("передано руководителю", "escalated"),
    "closed": ("закрыто", "closed"),
}
CHANNEL_NAMES: dict[str, tuple[str, str]] = {
    "phone": ("телефон", "phone"),
    "visit": ("визит", "visit"),
    "letter": ("письмо", "letter"),
    "messenger": ("мессенджер", "messenger"),
    "other": ("другое", "other"),
}
STAGE_NAMES: dict[str, tuple[str, str]] = {
    "accepted": ("семья согласилась", "accepted"),
    "started": ("начата", "started"),
    "completed": ("завершена", "completed"),
}
OUTCOME_NAMES: dict[str, tuple[str, str]] = {
    "completed": ("помощь оказана", "services completed"),
    "declined": ("семья отказалась", "family declined"),
    "unreachable": ("не удалось связаться", "unreachable"),
    "moved": ("семья переехала", "family moved"),
    "referred_on": ("передано другой службе", "referred on"),
}
STEP_NAMES: dict[str, tuple[str, str]] = {
    "contact": ("контакт", "contact"),
    "service": ("услуга", "service"),
    "declined": ("отказ семьи", "family declined"),
}

#: Audit actions as the administration tab names them in a user's history.
AUDIT_ACTION_NAMES: dict[str, tuple[str, str]] = {
    "login": ("вход", "logged in"),
    "login_failed": ("неудачный вход", "failed login"),
    "view_family": ("открыта карточка", "opened a family card"),
    "decision": ("решение", "decision"),
    "dispute": ("оспорена запись", "disputed a record"),
    "access_denied": ("отказано в доступе", "access refused"),
    "user_added": ("пользователь добавлен", "user added"),
    "user_disabled": ("пользователь отключён", "user disabled"),
    "user_enabled": ("пользователь включён", "user enabled"),
    "user_unlocked": ("блокировка снята", "unlocked"),
    "password_reset": ("пароль сменён", "password reset"),
    "user_role_changed": ("роль изменена", "role changed"),
    "user_districts_changed": ("районы изменены", "districts changed"),
}
