"""What the comments say: hot words now; lexicon, matcher and hot questions to come."""
