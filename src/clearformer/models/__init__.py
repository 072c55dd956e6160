"""Model families, each in its own folder, plus the Auto classes that pick one from config.json."""
