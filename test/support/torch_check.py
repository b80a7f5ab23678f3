# The PyTorch side of test/export-pytorch.test.ts: loads each exported
# directory as a user would (model.py, load_tessera_weights, eval()), writes
# its logits on the given images, then takes one SGD step in train() mode
# with dropout off on the given batch and writes the updated state dict and
# the gradients (a case without batch_images: the logits only). Usage: python3 torch_check.py config.json out.json
import importlib.util
import json
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def load(directory):
    spec = importlib.util.spec_from_file_location('exported_model', f'{directory}/model.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pixels(path, count, shape):
    data = open(path, 'rb').read()
    x = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    size = 1
    for d in shape:
        size *= d
    return x[: count * size].reshape(count, *shape).float()


def main():
    config = json.load(open(sys.argv[1]))
    out = []
    for case in config['cases']:
        module = load(case['dir'])
        model = module.load_tessera_weights(module.Model()).eval()
        with torch.no_grad():
            logits = model(pixels(case['images'], case['count'], case['shape']))
        if 'batch_images' not in case:  # logits only
            out.append({'logits': logits.flatten().tolist()})
            continue
        # One SGD step from the same weights and batch, dropout off.
        model.train()
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
        optimizer = torch.optim.SGD(model.parameters(), lr=case['lr'])
        batch = pixels(case['batch_images'], case['batch_count'], case['shape'])
        labels = torch.tensor(case['batch_labels'], dtype=torch.long)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(batch), labels)
        loss.backward()
        grads = {n: p.grad.flatten().tolist() for n, p in model.named_parameters() if p.grad is not None}
        optimizer.step()
        updated = {n: p.detach().flatten().tolist() for n, p in model.named_parameters()}
        out.append({'logits': logits.flatten().tolist(), 'loss': loss.item(), 'grads': grads, 'updated': updated})
    json.dump(out, open(sys.argv[2], 'w'))


main()
