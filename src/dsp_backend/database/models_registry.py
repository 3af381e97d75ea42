"""Imports every feature's models so that Base.metadata knows all tables (for Alembic and tests)."""


def import_all_models() -> None:
    from dsp_backend.audit import models as audit_models  # noqa: F401
    from dsp_backend.auth import models as auth_models  # noqa: F401
    from dsp_backend.drafts import models as draft_models  # noqa: F401
    from dsp_backend.gaps import models as gap_models  # noqa: F401
    from dsp_backend.meetings import models as meeting_models  # noqa: F401
    from dsp_backend.outbox import models as outbox_models  # noqa: F401
    from dsp_backend.referrals import models as referral_models  # noqa: F401
    from dsp_backend.register import models as register_models  # noqa: F401
