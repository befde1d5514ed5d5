"""Applicant notices: what a lender sends each declined or referred applicant (`creditflow notices`)."""

__all__: list[str] = []
