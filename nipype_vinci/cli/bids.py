"""The ``bids`` command: a BIDS-App style export of a dataset's images as DICOM series."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import VinciError
from .common import AddCommand, add_template_dirs


def _plugin(args: argparse.Namespace) -> tuple[str, dict]:
    if not args.plugin_config:
        return "MultiProc", {"n_procs": args.nprocs or os.cpu_count() or 1}
    import yaml

    try:
        config = yaml.safe_load(Path(args.plugin_config).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise VinciError(f"{args.plugin_config}: cannot read the plugin config ({exc})") from None
    if not isinstance(config, dict) or "plugin" not in config:
        raise VinciError(f"{args.plugin_config}: needs a 'plugin' key (and 'plugin_args')")
    return str(config["plugin"]), dict(config.get("plugin_args") or {})


def cmd_bids(args: argparse.Namespace) -> None:
    from nipype_vinci.workflows.bids import init_bids_export_wf, write_dataset_description

    if args.analysis_level != "participant":
        raise VinciError("only the 'participant' analysis level exists")
    output = Path(args.output_dir)
    if output.resolve() == Path(args.bids_dir).resolve():
        raise VinciError("OUTPUT_DIR must differ from BIDS_DIR; the dataset is read-only here")
    workflow = init_bids_export_wf(
        bids_dir=args.bids_dir,
        output_dir=str(output.resolve()),
        participant_label=[p.removeprefix("sub-") for p in args.participant_label or []],
        session=[s.removeprefix("ses-") for s in args.session or []],
        datatype=args.datatype,
        desc=args.desc,
        space=args.space,
        template=args.template,
        template_dirs=args.template_dir,
    )
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="vinci-"))
    workflow.base_dir = str(work.resolve())
    workflow.config["execution"]["crashdump_dir"] = str(work.resolve())
    write_dataset_description(output, args.bids_dir)
    plugin, plugin_args = _plugin(args)
    try:
        workflow.run(plugin=plugin, plugin_args=plugin_args)
    except RuntimeError as exc:
        raise VinciError(f"the export failed ({exc}); crash files are in {work}") from None
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    count = sum(name.endswith("save_dicom") for name in workflow.list_node_names())
    print(f"{count} series exported to {output} (not for diagnostic use)")


def register(command: AddCommand) -> None:
    """Add the ``bids`` command."""
    sub = command("bids", cmd_bids, "export a BIDS dataset's images as DICOM series")
    sub.add_argument("bids_dir", metavar="BIDS_DIR")
    sub.add_argument("output_dir", metavar="OUTPUT_DIR")
    sub.add_argument("analysis_level", choices=["participant"])
    sub.add_argument("--participant-label", nargs="+", metavar="LABEL")
    sub.add_argument("--session", nargs="+", metavar="SES")
    sub.add_argument("--datatype", nargs="+", metavar="TYPE", help="pet, anat, ...")
    sub.add_argument("--desc", nargs="+", help="desc- entity values (derivatives)")
    sub.add_argument("--space", nargs="+", help="space- entity values (derivatives)")
    sub.add_argument("--template", metavar="NAME|FILE", help="one template for every image")
    sub.add_argument("--nprocs", type=int, help="MultiProc processes (default: all cores)")
    sub.add_argument(
        "--plugin-config", metavar="FILE.yml", help="Nipype plugin and plugin_args (e.g. SLURM)"
    )
    sub.add_argument(
        "-w",
        "--work-dir",
        metavar="WORKDIR",
        help="Nipype working folder (kept: a rerun reuses its cache)",
    )
    add_template_dirs(sub)
