"""nipype_vinci: write image volumes as DICOM series from dcmdump templates."""

__version__ = "0.1.0"
