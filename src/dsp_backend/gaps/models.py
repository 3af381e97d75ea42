"""A gap in service as the DSP admin lead logs it (001 section 15: the gaps in service form)."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dsp_backend.database.core import Base
from dsp_backend.variants.schemas import AgeGroup


class GapInService(Base):
    __tablename__ = "gap_in_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The person it affected, if it was recorded against one; the gap outlives their entry.
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("register_entry.id", ondelete="SET NULL"), default=None, index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    # One of the variant's gap themes: what commissioners count.
    theme: Mapped[str] = mapped_column(String(48), index=True)
    age_group: Mapped[AgeGroup | None] = mapped_column(String(8), default=None)
    # Free text, read by dsr_admin and tco only; erased with the person's personal data.
    what_is_missing: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(Text)
    what_was_tried: Mapped[str] = mapped_column(Text)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
