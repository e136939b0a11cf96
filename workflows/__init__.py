"""Ready-made Nipype workflows of nipype_vinci (installed as ``nipype_vinci.workflows``)."""

from nipype_vinci.workflows.bids import init_bids_export_wf
from nipype_vinci.workflows.export import init_dicom_export_wf

__all__ = ["init_bids_export_wf", "init_dicom_export_wf"]
