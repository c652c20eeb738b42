"""What the KB editor needs beyond the store: version diffs, trial searches, unanswered questions."""
