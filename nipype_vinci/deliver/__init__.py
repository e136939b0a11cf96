"""Finished series to PACS: DICOM C-STORE, DICOMweb STOW-RS, verification, the report."""

from .report import SendReport
from .send import send_series
from .target import DicomNode, DicomWebService, parse_target

__all__ = ["DicomNode", "DicomWebService", "SendReport", "parse_target", "send_series"]
