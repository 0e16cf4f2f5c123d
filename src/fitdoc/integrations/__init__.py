"""fitdoc inside training: callbacks for Keras, PyTorch Lightning, Hugging Face
transformers and plain PyTorch loops. Each framework is an optional extra, imported
only by its own module; the shared logic lives in :mod:`fitdoc.integrations.live`."""
