"""The text toolkit every stage shares: one tokeniser, stemming, stop words and every word list."""
