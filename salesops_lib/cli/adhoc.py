"""Ad-hoc analysis commands (``salesops sql``, ``salesops tables``): not written yet."""
