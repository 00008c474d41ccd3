#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    # Production settings by default, as the servers use: the demo and local
    # development choose theirs (DJANGO_SETTINGS_MODULE=config.settings_dev, see
    # the Makefile), so nothing runs with debug on unless asked.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
