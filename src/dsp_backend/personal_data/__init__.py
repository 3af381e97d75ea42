"""Everything held on one person: exported on request (subject access), erased on request or when
the retention period after their removal is over (DESIGN.md data protection; 001 sections 6, 8).

A feature of its own because it reaches every feature that holds a person's data (the register,
the referral, gaps in service, meetings); none of those imports it back.
"""
