"""Ready-made Nipype workflows of nipype_vinci (installed as ``nipype_vinci.workflows``)."""
