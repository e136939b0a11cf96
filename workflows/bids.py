"""Export the images of a BIDS dataset (raw or derivative) as a BIDS derivative of DICOM series."""

from __future__ import annotations

import json
from pathlib import Path

from nipype.pipeline import engine as pe
from nipype_vinci.workflows.export import init_dicom_export_wf

from nipype_vinci import __version__
from nipype_vinci.bids import image_metadata, source_uids, split_name, stem
from nipype_vinci.errors import VinciError
from nipype_vinci.export.metadata import build_metadata
from nipype_vinci.export.reference import index_series
from nipype_vinci.export.uids import derived_uid
from nipype_vinci.template.library import find_template, select_template


def find_images(
    bids_dir: str | Path,
    *,
    participant_label=None,
    session=None,
    datatype=None,
    desc=None,
    space=None,
) -> list[Path]:
    """The images of a dataset that match the filters, in a stable order (pybids query)."""
    from bids import BIDSLayout

    root = Path(bids_dir).resolve()
    if not (root / "dataset_description.json").is_file():
        raise VinciError(f"{root}: not a BIDS dataset (no dataset_description.json)")
    layout = BIDSLayout(str(root), validate=False, derivatives=False)
    filters = {
        "subject": participant_label,
        "session": session,
        "datatype": datatype,
        "desc": desc,
        "space": space,
    }
    query = {k: v for k, v in filters.items() if v}
    images = sorted(
        Path(f) for f in layout.get(return_type="file", extension=[".nii", ".nii.gz"], **query)
    )
    if not images:
        shown = ", ".join(f"{k}={v}" for k, v in query.items()) or "no filters"
        raise VinciError(f"{root}: no image matches ({shown}); check the filters")
    return images


def _template(query: dict[str, str], override: str | None, dirs: list[str] | None) -> str:
    if override:
        return str(find_template(override, dirs))
    try:
        return select_template(query["modality"], query["manufacturer"], query["model"], dirs).path
    except VinciError:
        return select_template(query["modality"], extra=dirs).path


def write_dataset_description(output_dir: str | Path, source: str | Path) -> Path:
    """The derivative dataset's dataset_description.json (written once, before the run)."""
    path = Path(output_dir) / "dataset_description.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    description = {
        "Name": f"DICOM export of {Path(source).resolve().name}",
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "nipype_vinci",
                "Version": __version__,
                "Description": "image volumes written as DICOM series from "
                "templates; not for diagnostic use",
            }
        ],
        "SourceDatasets": [{"URL": Path(source).resolve().as_uri()}],
    }
    path.write_text(json.dumps(description, indent=2) + "\n")
    return path


def init_bids_export_wf(
    *,
    bids_dir: str,
    output_dir: str,
    participant_label=None,
    session=None,
    datatype=None,
    desc=None,
    space=None,
    template: str | None = None,
    template_dirs: list[str] | None = None,
    reference_dir: str | None = None,
    transfer_syntax: str | None = None,
    name: str = "bids_export_wf",
) -> pe.Workflow:
    """One export sub-workflow per matching image, metadata filled from BIDS.

    Workflow graph (one branch per image)::

        dicom_export_<stem>: inputnode -> save_dicom -> sink_dicom

    Templates and metadata are resolved here, when the graph is built (no node for them).

    Series of one subject/session share a StudyInstanceUID; series numbers follow the sorted
    file names. With ``reference_dir``, an image whose sidecar names its source scan
    (StudyInstanceUID/SeriesInstanceUID, as dcm2niix writes them) joins that scan's study:
    the series found under ``reference_dir`` becomes its reference. Output:
    ``output_dir/sub-*/[ses-*/]<datatype>/<stem>/`` with the DICOM files
    and ``<stem>.json`` (source image, template, UIDs, scaling).
    """
    root = Path(bids_dir).resolve()
    images = find_images(
        root,
        participant_label=participant_label,
        session=session,
        datatype=datatype,
        desc=desc,
        space=space,
    )
    workflow = pe.Workflow(name=name)
    references = index_series(reference_dir) if reference_dir else None
    counters: dict[tuple[str, str], int] = {}
    for image in images:
        entities, _, _ = split_name(image)
        visit = (entities.get("sub", ""), entities.get("ses", ""))
        counters[visit] = counters.get(visit, 0) + 1
        values, query, not_written = image_metadata(image, root)
        found = references.match(*source_uids(image, root)) if references else None
        options = {"reference_dicom": str(found)} if found is not None else {}
        if transfer_syntax:
            options["transfer_syntax"] = transfer_syntax
        if found is not None:
            not_written = tuple(k for k in not_written if k != "SeriesInstanceUID")
        values.pop("series_number", None)  # a sidecar's is the source scan's, not ours
        if found is None:
            values["series_number"] = counters[visit]
            values.setdefault(
                "study_instance_uid", derived_uid("bids-study", root.resolve().name, *visit)
            )
        build_metadata(values, lambda name, image=image: f"{image}: {name}")  # fail now
        template_file = _template(query, template, template_dirs)
        branch = init_dicom_export_wf(
            output_dir=output_dir,
            template_query={"template_file": template_file},
            name=f"export_{stem(image).replace('-', '_')}",
        )
        relative = image.parent.relative_to(root) / stem(image)
        branch.inputs.inputnode.in_file = str(image)
        branch.inputs.inputnode.out_name = relative.as_posix()
        branch.get_node("save_dicom").inputs.not_written = list(not_written)
        for field, value in {**values, **options}.items():
            setattr(
                branch.inputs.inputnode, field, list(value) if isinstance(value, tuple) else value
            )
        workflow.add_nodes([branch])
    return workflow
