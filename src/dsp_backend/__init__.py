"""DSP Assistant register service: the Dynamic Support Register and Risk of Admission Register."""
