"""Write a signed checkpoint of the access log's chain head now (the beat task
writes one regularly); see audit/checkpoint.py and docs/audit.md."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoint import CheckpointError, checkpoint_path, public_key_text, write_checkpoint


class Command(BaseCommand):
    help = "Append a signed checkpoint of the access log's chain head to MNR_AUDIT_CHECKPOINT_DIR."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--public-key",
            action="store_true",
            help="Only print the checkpoints' verification key (base64url Ed25519 public key).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["public_key"]:
            self.stdout.write(public_key_text())
            return
        try:
            checkpoint = write_checkpoint()
        except CheckpointError as exc:
            raise CommandError(f"No checkpoint written: {exc}") from None
        except OSError as exc:
            raise CommandError(f"No checkpoint written to {checkpoint_path()}: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint #{checkpoint.seq} written to {checkpoint_path()}: entry "
                f"{checkpoint.last_id}, {checkpoint.count} entries, {checkpoint.time.isoformat()}."
            )
        )
