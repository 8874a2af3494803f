"""What a memorize request would cost, without starting it: `locas memorize ... --estimate`."""

from __future__ import annotations

from app.memorize.estimate import Estimate, estimate_run
from app.memorize.job import (
    MemorizeRequest,
    choose_specs,
    document_token_ids,
    section_token_ids,
    stored_specs,
)
from app.memorize.sections import unheld_rest
from app.memorize.setup import resolve
from app.session import Session


def request_cost(session: Session, request: MemorizeRequest) -> Estimate:
    """Token count and time of ``request`` on this machine (loads the model; writes nothing to
    the library). Documents the memory already holds are not counted, as the job skips them."""
    library = session.library
    own = stored_specs(library.get_memory(request.memory), session.device_type())
    asked = choose_specs(session.settings.specs, request, own)
    specs = resolve(asked, session.backbone())
    backbone = session.backbone(specs.training.precision)  # the weights' dtype the job would use
    held = {s["document_id"] for s in library.memory_sources(request.memory) if s["status"] == "done"}
    ids: list[int] = []
    for doc_id in request.document_ids:
        planned = (request.section_ids or {}).get(doc_id) or unheld_rest(library, request.memory, doc_id)
        if planned is not None:
            ids += [t for part in section_token_ids(session, doc_id, planned).values() for t in part]
        elif doc_id not in held:
            ids += document_token_ids(session, doc_id)
    return estimate_run(backbone, asked, specs, ids, calibrate_if_new=request.calibrate)
