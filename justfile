# Everyday recipes. `just --list` shows them.

# Run the whole test suite (SQLite, and PostgreSQL when a server answers).
test *args:
    uv run pytest {{args}}

# Lint, format check, types and architecture contracts.
lint:
    uv run ruff check .
    uv run ruff format --check .
    uv run mypy
    uv run lint-imports

# Format the code.
fmt:
    uv run ruff format .
    uv run ruff check --fix .

# Start the service with demo data on the embedded SQLite database.
demo *args:
    uv run pokaznyk demo {{args}}

# Run the benchmarks (each prints its figures beside its baseline).
bench:
    uv run python bench/demo_data.py
    uv run python bench/webhook_dialog.py --engine both --workers 2 --concurrency 16

# The CI script, as CI runs it.
ci:
    bash .ci/run
