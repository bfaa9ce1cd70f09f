"""Reports: weekly and final program summaries with their chart, and the pairs export."""
