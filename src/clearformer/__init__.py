"""clearformer: a readable transformer stack with Hugging Face names."""
