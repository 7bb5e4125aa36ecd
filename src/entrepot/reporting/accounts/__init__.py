"""Group accounts beside the platform's own figures: equity-method investees (Ant Group), investment
programmes with their outcomes, segment results as reported and recast, and Cainiao's revenue abroad."""
