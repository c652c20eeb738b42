"""The test suite, by kind: unit, integration, e2e, browser, cluster; shared helpers in support."""
