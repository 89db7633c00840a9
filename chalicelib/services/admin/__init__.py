"""The comune's administration: a data subject's rights across the whole comune (privacy) and what the
console reads about the comune's set-up and its subscribers over time (overview)."""
