#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that read only the code (models, templates, catalogues): no secret,
# no data, no server. They run with the development settings unless told
# otherwise, so `manage.py makemigrations --check` works on a fresh checkout.
CODE_ONLY_COMMANDS = frozenset({"makemigrations", "makemessages", "compilemessages"})


def main() -> None:
    # Everything else uses the production settings by default, as the servers
    # do: the demo and local development choose theirs
    # (DJANGO_SETTINGS_MODULE=config.settings_dev, see the Makefile), so nothing
    # that touches data runs with debug on unless asked.
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    default = "config.settings_dev" if command in CODE_ONLY_COMMANDS else "config.settings"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
