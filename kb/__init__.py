"""Knowledge base: store, interchange files, text processing, search and the `kb` CLI."""
