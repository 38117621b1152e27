//! Test support for the end-to-end suite: builders and helpers shared by the tests under `tests/tests/`.
