"""From a question to ranked passages: dense and keyword rankings fused, overlapping chunks merged."""
