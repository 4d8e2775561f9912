"""Chart patterns with geometry (chartist mode) and the Lo-Mamaysky-Wang kernel mode."""
