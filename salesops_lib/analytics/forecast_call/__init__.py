"""The weekly forecast call: roll-up of submitted calls, their accuracy, pipeline movement, pacing.

Pure functions, frames in and frames out:

* :mod:`.rollup`: rep calls -> managers -> regions, the manager's override beside the sum of
  their reps' calls, and the region's number beside the pipeline-based and statistical forecasts;
* :mod:`.accuracy`: once a quarter closes, each submitter's error, bias and how early they were
  right, flags (sandbagger, over-caller) and commits weighted by the submitter's record;
* :mod:`.movement`: the forecast-category flow matrix between two snapshots (deals and money);
* :mod:`.pacing`: commit, best case and closed by week of the quarter against earlier quarters.
"""
