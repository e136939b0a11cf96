"""Peer: SimpleITK's per-slice DICOM writer (as in its documented example; fixed UIDs)."""

import os
import sys

import SimpleITK as sitk

source, folder = sys.argv[1], sys.argv[2]
os.makedirs(folder)
image = sitk.ReadImage(source)
if image.GetDimension() != 3:
    sys.exit("SimpleITK's series writer takes 3D images only")
if image.GetPixelID() not in (sitk.sitkInt16, sitk.sitkUInt16):
    image = sitk.Cast(sitk.RescaleIntensity(image, 0, 32767), sitk.sitkInt16)
writer = sitk.ImageFileWriter()
writer.KeepOriginalImageUIDOn()
direction = image.GetDirection()
tags = [
    ("0008|0060", "PT"),
    ("0020|000d", "1.2.3.4"),
    ("0020|000e", "1.2.3.4.5"),
    ("0020|0037", "\\".join(f"{v:.6f}" for v in direction[0:9:3] + direction[1:9:3])),
]
for k in range(image.GetDepth()):
    plane = image[:, :, k]
    for tag, value in tags:
        plane.SetMetaData(tag, value)
    position = image.TransformIndexToPhysicalPoint((0, 0, k))
    plane.SetMetaData("0020|0032", "\\".join(f"{v:.4f}" for v in position))
    plane.SetMetaData("0020|0013", str(k + 1))
    writer.SetFileName(os.path.join(folder, f"{k + 1:05d}.dcm"))
    writer.Execute(plane)
