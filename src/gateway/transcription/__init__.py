"""Speech-to-text shared by every provider: the validated upload, the normalized transcript, OpenAI's
output formats, and the duration of an upload that the provider did not report."""
