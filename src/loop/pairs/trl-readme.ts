/** README.md written next to an exported TRL preference dataset. */
export const TRL_README = `# chexpo preference pairs (TRL format)

Counterfactual preference pairs exported by chexpo's CheXPO loop, for training a larger
vision-language model with TRL's \`DPOTrainer\` on GPUs.

## Files

- \`train.jsonl\`: one pair per line.
  - \`prompt\`, \`chosen\`, \`rejected\`: TRL's *conversational* preference format. The user turn is
    \`[{"type": "image"}, {"type": "text", "text": <question>}]\` (one image placeholder), the answers
    are assistant turns. DPOTrainer applies the processor's chat template itself.
  - \`images\`: a one-element list with the image path, relative to this directory.
  - \`rejected_images\`: only on \`kind == "image_counterfactual"\` rows (mDPO-style): the same answer
    is rejected when shown with this edited image (the finding it depends on removed, added or altered).
  - \`question\`, \`chosen_text\`, \`rejected_text\`: the same texts as plain strings (standard format).
  - \`kind\`, \`weight\`, \`provenance\`: pair kind (negation, laterality, severity, location,
    confusable, cooccurrence, on_policy, image_counterfactual), its loss weight, and which case,
    sample, finding and generator rule produced it.
- \`images/*.png\`: 16-bit greyscale PNGs (MONOCHROME2, bright = dense). Convert to RGB for most
  processors, as below.

## Load and train

\`\`\`python
import os
import numpy as np
from datasets import load_dataset
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor
from trl import DPOConfig, DPOTrainer

root = "path/to/this/export"
ds = load_dataset("json", data_files=os.path.join(root, "train.jsonl"), split="train")
# Stock DPOTrainer shows \`images\` to both answers, so an image-counterfactual row (identical texts)
# carries no signal there: drop it, or use a trainer/collator that scores the rejected side with
# \`rejected_images\` (mDPO).
ds = ds.filter(lambda r: r["kind"] != "image_counterfactual")

def load_images(row):
    # 16-bit grey → 8-bit RGB, as most VLM processors expect.
    imgs = []
    for p in row["images"]:
        grey16 = np.asarray(Image.open(os.path.join(root, p)), dtype=np.uint16)
        imgs.append(Image.fromarray((grey16 >> 8).astype(np.uint8)).convert("RGB"))
    return {"images": imgs}

ds = ds.map(load_images)
extra = ["question", "chosen_text", "rejected_text", "provenance", "rejected_images"]
ds = ds.remove_columns([c for c in extra if c in ds.column_names])

model_id = "Qwen/Qwen2.5-VL-3B-Instruct"  # any image-text-to-text model with a chat template
model = AutoModelForImageTextToText.from_pretrained(model_id, torch_dtype="bfloat16")
processor = AutoProcessor.from_pretrained(model_id)
args = DPOConfig(output_dir="chexpo-dpo", beta=0.1, per_device_train_batch_size=2,
                 gradient_accumulation_steps=8, bf16=True)
trainer = DPOTrainer(model=model, args=args, train_dataset=ds, processing_class=processor)
trainer.train()
\`\`\`

The \`weight\` column is not read by stock DPOTrainer; to use it, subclass the trainer and scale
each example's loss, or resample rows in proportion to it.
`;
