"""The ``bids`` command: a BIDS-App style export of a dataset's images as DICOM series."""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..errors import VinciError
from ..fields import BY_NAME
from .common import PROG, AddCommand, add_send_options, add_template_dirs, send_target, send_written

# MultiProc looks for finished nodes this often (s); Nipype's default, 2 s, was most of the
# cost of a small export. A plugin config may set its own (execution: poll_sleep_duration).
LOCAL_POLL_SECONDS = 0.05


def _plugin(args: argparse.Namespace) -> tuple[str, dict, dict]:
    """The Nipype plugin, its arguments and execution settings."""
    if not args.plugin_config:
        local = {"n_procs": args.nprocs or os.cpu_count() or 1}
        return "MultiProc", local, {"poll_sleep_duration": LOCAL_POLL_SECONDS}
    import yaml

    try:
        config = yaml.safe_load(Path(args.plugin_config).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise VinciError(f"{args.plugin_config}: cannot read the plugin config ({exc})") from None
    if not isinstance(config, dict) or "plugin" not in config:
        raise VinciError(f"{args.plugin_config}: needs a 'plugin' key (and 'plugin_args')")
    execution = config.get("execution") or {}
    if not isinstance(execution, dict):
        raise VinciError(f"{args.plugin_config}: 'execution' must map Nipype settings to values")
    return str(config["plugin"]), dict(config.get("plugin_args") or {}), execution


def _quiet_nipype() -> None:
    """Nipype's log to warnings only (``-v`` keeps it)."""
    from nipype import config, logging

    for logger in ("workflow_level", "interface_level", "utils_level"):
        config.set("logging", logger, "WARNING")
    logging.update_logging(config)


class _Progress:
    """One line per finished series (and its warnings), and what was exported."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.series: list[dict] = []

    def __call__(self, node, status: str) -> None:
        if status != "end" or not node.name.startswith("sink_dicom"):
            return
        target = Path(node.result.outputs.out_dir)
        report = json.loads((target.parent / f"{target.name}.json").read_text())
        self.series.append(report)
        if self.quiet:
            return
        print(f"{len(report['files'])} files written to {target} (template {report['template']})")
        if report.get("not_written"):
            names = ", ".join(report["not_written"])
            print(
                f"{PROG}: warning: {target}: not written (no place for them): {names}",
                file=sys.stderr,
            )


def cmd_bids(args: argparse.Namespace) -> None:
    from nipype_vinci.workflows.bids import init_bids_export_wf, write_dataset_description

    if args.analysis_level != "participant":
        raise VinciError("only the 'participant' analysis level exists")
    target = send_target(args)
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
        reference_dir=args.reference_dir,
        transfer_syntax=args.transfer_syntax,
    )
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="vinci-"))
    workflow.base_dir = str(work.resolve())
    workflow.config["execution"]["crashdump_dir"] = str(work.resolve())
    write_dataset_description(output, args.bids_dir)
    plugin, plugin_args, execution = _plugin(args)
    workflow.config["execution"].update({k: str(v) for k, v in execution.items()})
    if not args.verbose:
        _quiet_nipype()
    progress = _Progress(quiet=args.json)
    # MultiProc runs gc.collect() each time it hands out jobs; with the graph's many traits
    # objects each took about 0.1 s (6 s of a 40-image rerun). Objects built so far live as
    # long as the run: freeze them out of the collector's sight.
    gc.freeze()
    try:
        workflow.run(plugin=plugin, plugin_args={**plugin_args, "status_callback": progress})
    except RuntimeError as exc:
        raise VinciError(f"the export failed ({exc}); crash files are in {work}") from None
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    series = sorted(progress.series, key=lambda r: r["output"])
    if args.json:
        print(json.dumps({"output_dir": str(output), "series": series}, indent=2))
    else:
        print(f"{len(series)} series exported to {output} (not for diagnostic use)")
    if target is not None:
        send_written([r["output"] for r in series], target, args.send_verify)


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
    syntax = BY_NAME["transfer_syntax"]
    sub.add_argument(syntax.flag, choices=syntax.choices, help=syntax.help)
    sub.add_argument(
        "--reference-dir",
        metavar="DIR",
        help="folders of the original DICOM series: an image whose sidecar names its source "
        "(StudyInstanceUID/SeriesInstanceUID, as dcm2niix writes) joins that study",
    )
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
    sub.add_argument("-v", "--verbose", action="store_true", help="show Nipype's log")
    sub.add_argument(
        "--json", action="store_true", help="print a machine-readable summary of the export"
    )
    add_send_options(sub)
    add_template_dirs(sub)
