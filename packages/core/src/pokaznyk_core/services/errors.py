"""The error a use case raises when the request cannot be served: a Problem with a code."""

from __future__ import annotations

from pokaznyk_core.domain.outcomes import Problem


class ServiceError(Exception):
    """A request the service cannot serve; `problem` says what is wrong in the catalogue's words."""

    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(detail or problem.code.value)
        self.problem = problem
        self.detail = detail
