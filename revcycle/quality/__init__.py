"""Data quality before scrubbing: Great Expectations suites over claims and service lines."""

from revcycle.quality.runner import (
    CLAIMS,
    SERVICE_LINES,
    AssetOutcome,
    ExpectationOutcome,
    QualityError,
    QualityFinding,
    QualityResult,
    SuiteStats,
    claims_frame,
    lines_frame,
    run_quality,
    validate_frames,
)

__all__ = [
    "CLAIMS",
    "SERVICE_LINES",
    "AssetOutcome",
    "ExpectationOutcome",
    "QualityError",
    "QualityFinding",
    "QualityResult",
    "SuiteStats",
    "claims_frame",
    "lines_frame",
    "run_quality",
    "validate_frames",
]
