"""Case management: cases, protection steps, notes, transfers, plan templates."""
