"""Nipype interfaces of nipype_vinci: thin wrappers around the library's pure functions."""

from .deliver import SendDicom
from .dicom import MakeTemplate, SaveDicom, SelectTemplate, SinkDicom
from .kinds import SaveOverlay, SaveSeg

__all__ = [
    "MakeTemplate",
    "SaveDicom",
    "SaveOverlay",
    "SaveSeg",
    "SelectTemplate",
    "SendDicom",
    "SinkDicom",
]
