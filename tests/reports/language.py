"""Words the language checks look for, shared by the answer's tests."""

# English words and raw names that must not appear on a Norwegian page.
NOT_NORWEGIAN = [
    "customer",
    "invoice",
    "purpose",
    "legal_basis",
    "retention",
    "issued_at",
    "total",
    "support_notes",
    "records",
    "None",
    "Your",
    "contract",
    "the ",
    "Amount",
]
