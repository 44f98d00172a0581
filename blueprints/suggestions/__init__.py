"""Deputy suggestions (代表建议): drafting, co-signing, pre-review, registration, handling, rating, supervision."""
