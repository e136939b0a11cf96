"""Nipype interfaces of nipype_vinci: thin wrappers around the library's pure functions."""

from .dicom import MakeTemplate, SaveDicom, SelectTemplate, SinkDicom

__all__ = ["MakeTemplate", "SaveDicom", "SelectTemplate", "SinkDicom"]
