"""The CIFAR-10 study on one GPU: the key arms x seeds trained by the fused trainer in one
process (``run``), and the ingestion of its archive into the workflow's layout (``cli``)."""
