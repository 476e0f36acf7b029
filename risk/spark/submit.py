"""The ``risk`` command as a file spark-submit can run.

``spark-submit [options] "$(python -c 'import risk.spark.submit as m; print(m.__file__)')"
score --engine spark ...``: under spark-submit, the session takes the cluster's master.
"""

from __future__ import annotations


def main() -> None:
    """Run the ``risk`` command line (arguments from ``sys.argv``)."""
    from importlib.metadata import entry_points

    # The command stands above this package: found through the installed console script.
    (script,) = entry_points(group="console_scripts", name="risk")
    script.load()()


if __name__ == "__main__":
    main()
