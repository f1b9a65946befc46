# Scripts (nightly job, plots, emulated cluster) and their tests (issue 7).
