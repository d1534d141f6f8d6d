"""The schema checks of a run: one per document type, present (when required) and shaped like
OpenVidu's, from the tallies a ``RunDigest`` made while the documents passed (``schema`` holds
the seed's examples and the comparison of one document)."""

from __future__ import annotations

from simulator.verify.checks import Check
from simulator.verify.digest import RunDigest
from simulator.verify.schema import UNMEASURED, seed_examples
from simulator.verify.store_reader import Document


def schema_checks(documents: list[Document], required: set[str]) -> list[Check]:
    """One check per document type: present (when required) and shaped like OpenVidu's."""
    return digest_schema_checks(RunDigest.of(documents), required)


def digest_schema_checks(
    digest: RunDigest, required: set[str], exempt: dict[str, str] | None = None
) -> list[Check]:
    """:func:`schema_checks` from the tallies a digest made while the documents passed; a type
    in ``exempt`` that is absent is a check that does not apply, saying why."""
    checks = []
    for elastic_type in seed_examples():
        tally = digest.schema.get(elastic_type)
        if tally is None:
            if elastic_type in required:
                checks.append(Check(f"{elastic_type} documents present", False, ">= 1", 0))
            elif exempt and elastic_type in exempt:
                why = f"n/a: {exempt[elastic_type]}"
                checks.append(Check(f"{elastic_type} documents present", True, ">= 1", why))
            continue
        problems = sorted(tally.problems)
        detail = f"{tally.compared} of {tally.documents} compared"
        if elastic_type in UNMEASURED:
            detail += f"; {', '.join(sorted(UNMEASURED[elastic_type]))} unmeasured, so absent"
        checks.append(
            Check(
                f"{elastic_type} fields and JSON types as OpenVidu's",
                not problems,
                "all seed keys, same JSON types",
                problems or detail,
            )
        )
    return checks
