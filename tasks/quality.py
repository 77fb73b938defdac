"""Quality task: the Great Expectations suites over a batch; Data Docs as an artifact.

The artifact's link is one a browser opens: the report server's URL under ``revcycle
serve``, a presigned URL on an S3 store, else the page's file:// address.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact

from revcycle.pipeline.quality import check_quality
from revcycle.pipeline.resources import get_resources
from tasks.policy import audited, batch_work, in_stage, run_name, stage_task_options


@task(**stage_task_options("quality", "batch_id", work=batch_work))
def quality_task(batch_id: str) -> dict[str, Any]:
    result = in_stage(run_name("quality", {"batch_id": batch_id}), check_quality,
                      get_resources(), batch_id)
    audited(get_resources(), "quality", batch_id, result)
    get_run_logger().info("quality %s: %d validated, %d failed", batch_id,
                          result["validated"], result["failed"])
    if result["data_docs"]:
        create_link_artifact(result["data_docs"], link_text=f"Data Docs {batch_id}",
                             key=f"data-docs-{batch_id.lower()}",
                             description="Great Expectations results of the batch: "
                             "expectations, counts and failing claim ids (no values)")
    return result
