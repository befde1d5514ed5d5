"""What a reviewer reads, rendered from the evaluation: the model card and review page (model_card, review_page),
their evidence and context sections, charts, the fairness report, and PNG rendering of the gates' figures (render).
Import the modules directly; matplotlib is imported when something is drawn."""

__all__: list[str] = []
