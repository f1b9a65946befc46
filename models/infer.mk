# The inference model (issue 6): libsbmodel sources, sb_model infer/demand, LLM catalog, tests.
