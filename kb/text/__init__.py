"""Chinese text processing for search: normalisation and tokenisation."""
