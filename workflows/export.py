"""The DICOM export workflow: choose a template, save the series, sink it."""

from __future__ import annotations

from nipype.interfaces import utility as niu
from nipype.pipeline import engine as pe

from nipype_vinci.fields import FIELDS
from nipype_vinci.interfaces import SaveDicom, SaveSeg, SelectTemplate, SendDicom, SinkDicom


def init_dicom_export_wf(
    *,
    output_dir: str,
    template_query: dict | None = None,
    send_to: str | None = None,
    send_verify: bool = False,
    segmentation: bool = False,
    name: str = "dicom_export_wf",
) -> pe.Workflow:
    """Export one image as a DICOM series into ``output_dir/<out_name>``.

    Workflow graph::

        inputnode ──> select_template ──> save_dicom ──> sink_dicom ──> outputnode
            │                                 ^               └──> send_dicom (send_to)
            └─── in_file, metadata fields ────┘

    Parameters
    ----------
    output_dir : str
        Folder the finished series are copied into (by the sink node only).
    template_query : dict, optional
        Fixed SelectTemplate inputs (``template_name``, or ``modality`` with ``manufacturer``
        and ``model``); without it, set ``inputnode.template_name``. A ``template_file``
        alone is passed to save_dicom directly (no select_template node).
    segmentation : bool
        Also write a DICOM Segmentation of the exported series from ``inputnode.label_map``
        and ``inputnode.labels_file`` (a save_seg node), sunk beside it as ``<out_name>_seg``.
    send_to : str, optional
        Also send the sunk series to this PACS (``AET@HOST:PORT`` or a DICOMweb URL): a
        send_dicom node after sink_dicom (``send_verify``: ask the receiver afterwards).
    name : str
        Workflow name.

    Inputs (inputnode)
    ------------------
    in_file, out_name, template_name (without ``template_query``), metadata_file, uid_seed,
    series_index, scaling, and every metadata field (patient_name, study_date, ...).

    Outputs (outputnode)
    --------------------
    dicom_dir (the sunk series), dicom_files, series_instance_uid, study_instance_uid,
    report_file.
    """
    workflow = pe.Workflow(name=name)
    save_fields = ["metadata_file", *(f.name for f in FIELDS)]
    inputnode = pe.Node(
        niu.IdentityInterface(
            fields=[
                "in_file",
                "out_name",
                "template_name",
                "label_map",
                "labels_file",
                *save_fields,
            ]
        ),
        name="inputnode",
    )
    inputnode.inputs.series_index = 0
    outputnode = pe.Node(
        niu.IdentityInterface(
            fields=[
                "dicom_dir",
                "dicom_files",
                "series_instance_uid",
                "study_instance_uid",
                "report_file",
            ]
        ),
        name="outputnode",
    )
    save = pe.Node(SaveDicom(), name="save_dicom")
    sink = pe.Node(
        SinkDicom(base_directory=output_dir), name="sink_dicom", run_without_submitting=True
    )
    if template_query and set(template_query) == {"template_file"}:
        save.inputs.template_file = template_query["template_file"]  # known: no node needed
    else:
        select = pe.Node(SelectTemplate(**(template_query or {})), name="select_template")
        if not template_query:
            workflow.connect(inputnode, "template_name", select, "template_name")
        workflow.connect(select, "template_file", save, "template_file")
    workflow.connect(
        [
            (inputnode, save, [("in_file", "in_file"), *((f, f) for f in save_fields)]),
            (inputnode, sink, [("out_name", "out_name")]),
            (save, sink, [("dicom_dir", "dicom_dir"), ("report_file", "report_file")]),
            (sink, outputnode, [("out_dir", "dicom_dir")]),
            (
                save,
                outputnode,
                [
                    ("dicom_files", "dicom_files"),
                    ("series_instance_uid", "series_instance_uid"),
                    ("study_instance_uid", "study_instance_uid"),
                    ("report_file", "report_file"),
                ],
            ),
        ]
    )
    if segmentation:
        _add_segmentation(workflow, inputnode, save, output_dir)
    if send_to:
        send = pe.Node(
            SendDicom(target=send_to, verify=send_verify),
            name="send_dicom",
            run_without_submitting=True,
        )
        workflow.connect(sink, "out_dir", send, "dicom_dirs")
    return workflow


def _add_segmentation(workflow: pe.Workflow, inputnode, save, output_dir: str) -> None:
    """A save_seg node on the exported series and its sink, ``<out_name>_seg``."""
    seg = pe.Node(SaveSeg(), name="save_seg")
    sink = pe.Node(
        SinkDicom(base_directory=output_dir), name="sink_seg", run_without_submitting=True
    )
    suffix = pe.Node(
        niu.Function(function=_seg_name, input_names=["out_name"], output_names=["seg_name"]),
        name="seg_name",
        run_without_submitting=True,
    )
    workflow.connect(
        [
            (inputnode, seg, [("label_map", "in_file"), ("labels_file", "labels_file")]),
            (save, seg, [("dicom_dir", "reference_dir")]),
            (inputnode, suffix, [("out_name", "out_name")]),
            (suffix, sink, [("seg_name", "out_name")]),
            (seg, sink, [("dicom_dir", "dicom_dir"), ("report_file", "report_file")]),
        ]
    )


def _seg_name(out_name: str) -> str:
    return f"{out_name}_seg"
