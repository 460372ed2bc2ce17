"""Foreign API formats in front of the OpenAI-format pipeline: pure translations, no I/O.

An ingress turns a request in another API's format into the OpenAI chat request the pipeline runs,
and turns the pipeline's answer (or stream) back; auth, routing, keys and usage stay the pipeline's.
"""
